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

        from django.contrib.auth.signals import user_logged_in

        def _login_seen(sender, request, user, **kwargs):
            from accounts.models import Participant

            from .devices import device_seen

            participant_id = Participant.objects.filter(user=user).values_list("pk", flat=True).first()
            if request is not None and participant_id is not None:
                device_seen(request, participant_id, "login")

        user_logged_in.connect(_login_seen, weak=False, dispatch_uid="integrity.device_login")
