"""Where a payout can go: Xendit's channel codes for Indonesian banks and
e-wallets (https://docs.xendit.co/payouts/channel-codes). An institution's
or platform's bank and a participant's incentive account are one of these."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from prakerja.inputs import ascii_digits, is_ascii_number


class PayoutChannel(models.TextChoices):
    ID_BCA = "ID_BCA", "BCA"
    ID_BNI = "ID_BNI", "BNI"
    ID_BRI = "ID_BRI", "BRI"
    ID_MANDIRI = "ID_MANDIRI", "Bank Mandiri"
    ID_BSI = "ID_BSI", "Bank Syariah Indonesia"
    ID_BTN = "ID_BTN", "BTN"
    ID_CIMB = "ID_CIMB", "CIMB Niaga"
    ID_DANAMON = "ID_DANAMON", "Danamon"
    ID_PERMATA = "ID_PERMATA", "Permata"
    ID_OVO = "ID_OVO", "OVO"
    ID_GOPAY = "ID_GOPAY", "GoPay"
    ID_DANA = "ID_DANA", "DANA"
    ID_LINKAJA = "ID_LINKAJA", "LinkAja"
    ID_SHOPEEPAY = "ID_SHOPEEPAY", "ShopeePay"


EWALLETS = frozenset({"ID_OVO", "ID_GOPAY", "ID_DANA", "ID_LINKAJA", "ID_SHOPEEPAY"})
BANKS = frozenset(PayoutChannel.values) - EWALLETS


def account_number_clean(channel: str, number: str) -> str:
    """The account number as the gateway wants it: digits for a bank
    account; for an e-wallet, the Indonesian mobile number it hangs on, as
    08xx. Raises ValidationError with a message for the person typing it."""
    number = (number or "").strip()
    if channel not in PayoutChannel.values:
        raise ValidationError(_("Choose a bank or e-wallet from the list."), code="channel")
    if channel in EWALLETS:
        try:
            parsed = phonenumbers.parse(number, "ID")
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed) or parsed.country_code != 62:
            raise ValidationError(
                _("Enter the Indonesian mobile number of the e-wallet, for example 0812 3456 7890."),
                code="ewallet_number",
            )
        return "0" + str(parsed.national_number)
    digits = ascii_digits(re.sub(r"[\s.-]", "", number))
    if not is_ascii_number(digits) or not 5 <= len(digits) <= 20:
        raise ValidationError(_("A bank account number has 5 to 20 digits."), code="account_number")
    return digits


def holder_name_normalise(name: str) -> str:
    """A name compared for equality: case, spacing and punctuation aside."""
    return " ".join(re.sub(r"[^\w\s]", " ", name or "").casefold().split())
