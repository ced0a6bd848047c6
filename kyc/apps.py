from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KycConfig(AppConfig):
    """Face-matching identity checks (issue 3)."""

    name = "kyc"
    verbose_name = _("Identity verification (KYC)")
