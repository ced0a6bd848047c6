from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    """Waves, cards and purchases with PMO authorisation (issue 5)."""

    name = "enrollment"
    verbose_name = _("Waves and enrolments")
