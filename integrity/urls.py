from django.urls import path

from . import views

app_name = "integrity"
urlpatterns = [
    path("peserta/kasus/<int:pk>/", views.case_page, name="case"),
]
