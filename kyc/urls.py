from django.urls import path

from . import views

app_name = "kyc"

urlpatterns = [
    path("peserta/identitas/", views.status, name="status"),
    path("peserta/identitas/tantangan/", views.challenge, name="challenge"),
    path("kyc/foto/<int:pk>/<str:photo>/", views.photo, name="photo"),
]
