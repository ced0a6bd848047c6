"""Background jobs of the kyc app; each takes ids and is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications.services import notify_email


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def run_kyc_check(submission_id: int) -> str:
    from .services import kyc_process

    return kyc_process(submission_id=submission_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_kyc_decision(submission_id: int) -> None:
    from .models import KycSubmission

    submission = KycSubmission.objects.select_related("participant__user").get(pk=submission_id)
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "submission": submission,
            "participant": submission.participant,
            "url": settings.SITE_URL.rstrip("/") + reverse("kyc:status"),
        }
        subject = render_to_string("kyc/email/decision_subject.txt", context).strip()
        body = render_to_string("kyc/email/decision.txt", context)
    notify_email(
        key=f"kyc-decision:{submission.pk}:{submission.status}",
        to=[submission.participant.user.email],
        subject=subject,
        body=body,
    )


@shared_task
def purge_kyc_photos() -> int:
    from .services import kyc_purge_photos

    return kyc_purge_photos()


@shared_task(acks_late=True)
def import_registry_extract(extract_id: int) -> None:
    from .services import registry_extract_import

    registry_extract_import(extract_id=extract_id)


@shared_task
def requeue_stale_kyc_checks() -> int:
    from .services import kyc_requeue_stale

    return kyc_requeue_stale()
