from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayoutsConfig(AppConfig):
    """Payout batches to institutions and incentives to participants, sent
    through the payment gateway by Celery (issue 6)."""

    name = "payouts"
    verbose_name = _("Payouts")

    def ready(self):
        from .finished import on_payout_finished
        from .models import Payout
        from .services.incentives import incentive_payout_finished

        on_payout_finished(Payout.Kind.INCENTIVE, incentive_payout_finished)
