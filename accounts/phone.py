"""Indonesian mobile numbers, checked with phonenumbers."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def clean_mobile(value: str) -> str:
    """Returns the number in E.164 form (+628...) or raises ValidationError."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError(_("Enter your mobile number."), code="required")
    if len(raw) > 20:
        raise ValidationError(_("That mobile number is too long."), code="phone_invalid")
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Enter an Indonesian mobile number, for example 0812 3456 7890."),
            code="phone_invalid",
        ) from None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter an Indonesian mobile number, for example 0812 3456 7890."),
            code="phone_invalid",
        )
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("This is not a mobile number: codes are sent by SMS, so enter a mobile (HP) number."),
            code="phone_not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """+6281234567890 -> +62 812-****-7890"""
    if len(e164) < 10:
        return e164
    return f"{e164[:3]} {e164[3:6]}-****-{e164[-4:]}"
