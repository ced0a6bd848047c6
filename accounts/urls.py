from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("peserta/daftar/", views.register, name="register"),
    path("peserta/verifikasi-hp/", views.verify_phone, name="verify_phone"),
    path("dinas/", views.operator_dashboard, name="operator_dashboard"),
    path("dinas/daftar/", views.operator_register, name="operator_register"),
    path("dinas/unggah/", views.operator_batch_upload, name="operator_batch_upload"),
    path(
        "dinas/unggah/templat.csv",
        views.operator_batch_template,
        name="operator_batch_template",
    ),
    path("dinas/unggah/<int:pk>/", views.operator_batch, name="operator_batch"),
    path(
        "dinas/unggah/<int:pk>/hasil.csv",
        views.operator_batch_result,
        name="operator_batch_result",
    ),
]
