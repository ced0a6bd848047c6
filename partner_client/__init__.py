"""A reference client of the Kartu Prakerja partner API, written only
against the published contract (/api/v1/schema and the developer guide at
/api/v1/guide), with the Python standard library alone.

    from partner_client import PartnerClient
    api = PartnerClient("https://prakerja.example", "PLT-SISNAKER", secret)
    sent = api.send_otp(card_number=..., platform_user_id="u-42", course_id=12, schedule_code="S12-3", amount=750000)
    purchase = api.authorize(payment_token=sent["payment_token"], otp="123456", invoice_code="INV-1", invoice_url=...)
"""

from .client import ApiError, PartnerClient, sign, verify_webhook

__all__ = ["ApiError", "PartnerClient", "sign", "verify_webhook"]
