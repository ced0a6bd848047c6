from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """The double-entry ledger and payouts (issues 5 and 6)."""

    name = "payments"
    verbose_name = _("Ledger and payouts")
