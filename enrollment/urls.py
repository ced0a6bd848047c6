from django.urls import path

from . import views

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
    path("mitra/", views.platform_orders, name="platform_home"),
    path("mitra/pesanan/", views.platform_orders, name="platform_orders"),
]
