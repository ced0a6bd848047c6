from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    name = "integrity"
    verbose_name = _("Programme integrity")

    def ready(self):
        from accounts.signals import exclusion_list_ready

        from .tasks import rescreen_exclusion_list

        def _rescreen(sender, exclusion_list_id, **kwargs):
            # Sent by the import task once the list is ready (committed).
            rescreen_exclusion_list.delay(exclusion_list_id)

        exclusion_list_ready.connect(_rescreen, weak=False, dispatch_uid="integrity.rescreen_exclusion_list")
