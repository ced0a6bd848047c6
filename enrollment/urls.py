from django.urls import path

from . import attendance_views, lottery_views, views

app_name = "enrollment"

urlpatterns = [
    path("peserta/gelombang/", views.waves_page, name="waves"),
    path("peserta/kartu/", views.my_card, name="card"),
    path("kursus/<int:pk>/beli/", views.checkout, name="checkout"),
    path("peserta/pembelian/<int:pk>/", views.purchase, name="purchase"),
    path("peserta/pembelian/<int:pk>/batal/", views.purchase_cancel, name="purchase_cancel"),
    path("peserta/pembelian/<int:pk>/ulasan/", views.purchase_review, name="purchase_review"),
    path("pembelian/<int:pk>/sertifikat/", views.certificate, name="certificate"),
    path("lembaga/peserta/", views.institution_enrollments, name="institution_enrollments"),
    path("lembaga/peserta/<int:pk>/selesai/", views.institution_complete, name="institution_complete"),
    path("lembaga/peserta/<int:pk>/kehadiran/", attendance_views.institution_attendance, name="institution_attendance"),
    path("kehadiran/<str:token>/", attendance_views.attendance_page, name="attendance"),
    path("kehadiran/<str:token>/tantangan/", attendance_views.attendance_challenge, name="attendance_challenge"),
    path("peserta/kehadiran/<int:pk>/", attendance_views.attendance_status, name="attendance_status"),
    path("kehadiran/foto/<int:pk>/<str:kind>/", attendance_views.attendance_photo, name="attendance_photo"),
    path("gelombang/<int:number>/undian/", lottery_views.wave_lottery, name="wave_lottery"),
    path("gelombang/<int:number>/undian.csv", lottery_views.wave_lottery_csv, name="wave_lottery_csv"),
    path("mitra/", views.platform_orders, name="platform_home"),
    path("mitra/pesanan/", views.platform_orders, name="platform_orders"),
]
