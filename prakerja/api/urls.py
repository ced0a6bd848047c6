from csp.decorators import csp_update
from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from catalog import api as catalog_api
from enrollment import api as enrollment_api
from payouts import api as payouts_api
from webhooks import api as webhooks_api

from . import views
from .converters import CodeConverter, IdConverter

register_converter(IdConverter, "id")
register_converter(CodeConverter, "code")

app_name = "api"

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI adds its own <style> element: inline styles, on this page
    # alone; its scripts stay our own files.
    path(
        "docs",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    path("whoami", views.whoami, name="whoami"),
    # platforms
    path("courses", catalog_api.courses, name="courses"),
    path("courses/<id:course_id>", catalog_api.course_detail, name="course"),
    path("courses/<id:course_id>/versions", catalog_api.course_versions, name="course_versions"),
    path("purchases/send-otp", enrollment_api.purchase_send_otp, name="purchase_send_otp"),
    path("purchases/authorize", enrollment_api.purchase_authorize, name="purchase_authorize"),
    path("purchases/<code:invoice_code>", enrollment_api.purchase_status, name="purchase_status"),
    path("purchases/<code:invoice_code>/void", enrollment_api.purchase_void, name="purchase_void"),
    path("orders", enrollment_api.orders_list, name="orders"),
    # institutions
    path("vouchers/<code:voucher_code>", enrollment_api.voucher_status, name="voucher_status"),
    path("vouchers/<code:voucher_code>/redeem", enrollment_api.voucher_redeem, name="voucher_redeem"),
    path("enrollments", enrollment_api.enrollments_list, name="enrollments"),
    # both
    path("statements", payouts_api.statements_list, name="statements"),
    path("webhooks/endpoint", webhooks_api.webhook_endpoint, name="webhook_endpoint"),
    path("webhooks/messages", webhooks_api.webhook_messages, name="webhook_messages"),
    path(
        "webhooks/messages/<code:msg_id>/redeliver",
        webhooks_api.webhook_message_redeliver,
        name="webhook_message_redeliver",
    ),
    path("enrollments/<id:enrollment_id>/completion", enrollment_api.enrollment_complete, name="enrollment_complete"),
    path(
        "enrollments/<id:enrollment_id>/attendance", enrollment_api.enrollment_attendance, name="enrollment_attendance"
    ),
]
