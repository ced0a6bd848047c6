from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    """Waves, cards and purchases with PMO authorisation (issue 5)."""

    name = "enrollment"
    verbose_name = _("Waves and enrolments")

    def ready(self):
        from payouts.finished import on_payout_finished
        from payouts.models import Payout

        from .services.settlement import enrollments_paid

        on_payout_finished(Payout.Kind.COURSE_FEES, enrollments_paid)
