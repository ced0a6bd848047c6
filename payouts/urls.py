from django.urls import path

from . import views

app_name = "payouts"

urlpatterns = [
    path("api/pembayaran/xendit/webhook/", views.gateway_webhook, name="gateway_webhook"),
    path("lembaga/pembayaran/", views.institution_statement, name="institution_statement"),
    path(
        "lembaga/pembayaran/<int:payout_id>/", views.institution_statement_detail, name="institution_statement_detail"
    ),
    path("mitra/pembayaran/", views.platform_statement, name="platform_statement"),
    path("peserta/insentif/", views.incentives_page, name="incentives"),
]
