"""Background jobs of the accounts app. Each takes ids or plain values and is
safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.services import notify_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_offline_welcome(participant_id: int) -> None:
    """Tells a person registered by a Dinas operator how to log in."""
    from allauth.account import app_settings as allauth_settings
    from allauth.account.utils import user_pk_to_url_str

    from .models import Participant

    participant = Participant.objects.select_related("user", "registered_by__dinas_operator").get(pk=participant_id)
    user = participant.user
    if user.has_usable_password():
        return
    token = allauth_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": token},
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "participant": participant,
            "office": participant.registered_by.dinas_operator.office_name,
            "set_password_url": settings.SITE_URL.rstrip("/") + path,
            "login_url": settings.SITE_URL.rstrip("/") + reverse("account_login"),
        }
        subject = render_to_string("accounts/email/offline_welcome_subject.txt", context).strip()
        body = render_to_string("accounts/email/offline_welcome.txt", context)
    notify_email(key=f"offline-welcome:{participant.pk}", to=[user.email], subject=subject, body=body)


@shared_task(bind=True, acks_late=True, max_retries=None)
def process_registration_batch(self, batch_id: int) -> None:
    from .services.batches import STALE_AFTER, registration_batch_process

    if registration_batch_process(batch_id=batch_id) == "busy":
        # Another run holds it; if that run died, its claim goes stale and
        # this retry takes over.
        raise self.retry(countdown=int(STALE_AFTER.total_seconds()))


@shared_task(bind=True, acks_late=True, max_retries=None)
def process_registration_chunk(self, chunk_id: int) -> None:
    from .services.batches import STALE_AFTER, registration_chunk_process

    if registration_chunk_process(chunk_id=chunk_id) == "busy":
        raise self.retry(countdown=int(STALE_AFTER.total_seconds()))


@shared_task
def requeue_stale_batch_chunks() -> int:
    from .services.batches import registration_chunks_requeue

    return registration_chunks_requeue()


@shared_task(acks_late=True)
def import_exclusion_list(exclusion_list_id: int) -> None:
    from .services.exclusion import exclusion_list_import

    exclusion_list_import(exclusion_list_id=exclusion_list_id)
