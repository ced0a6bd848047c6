"""Celery tasks of waves, cards and purchases: they take ids, load fresh
state and call services, so running one twice does no harm."""

import logging

from celery import shared_task
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.services import notify_email, notify_sms

from .models import Card, Wave, WaveApplication

log = logging.getLogger(__name__)


def _mail(user, template: str, context: dict, *, key: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"enrollment/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"enrollment/email/{template}.txt", context)
    notify_email(key=key, to=[user.email], subject=subject, body=body)


@shared_task
def run_wave_draw(wave_id: int, user_id: int) -> None:
    """The lottery, queued from admin: a large wave takes longer than a web
    request may. A second run is refused by the service (drawn once)."""
    from django.core.exceptions import ValidationError

    from accounts.models import User

    from .services.waves import wave_draw

    try:
        wave_draw(wave=Wave.objects.get(pk=wave_id), by=User.objects.get(pk=user_id))
    except ValidationError as exc:
        log.warning("wave %s: selection not run: %s", wave_id, " ".join(exc.messages))


@shared_task
def issue_wave_cards(wave_id: int) -> int:
    """Splits the issuing of a drawn wave's cards into chunks of
    ``CARD_ISSUE_CHUNK`` selected applications (by id range) and queues one
    task per chunk, which the bulk workers run side by side. Run again (the
    wave's admin page offers it), it queues only the chunks that still have
    a selected application without a card. Returns how many chunks."""
    ids = list(
        WaveApplication.objects.filter(
            wave_id=wave_id, status=WaveApplication.Status.SELECTED, participant__card__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    size = settings.CARD_ISSUE_CHUNK
    chunks = [(ids[start], ids[min(start + size, len(ids)) - 1]) for start in range(0, len(ids), size)]
    for first, last in chunks:
        issue_card_chunk.delay(wave_id, first, last)
    log.info("wave %s: %s cards to issue in %s chunks", wave_id, len(ids), len(chunks))
    return len(chunks)


@shared_task
def issue_card_chunk(wave_id: int, first_id: int, last_id: int) -> int:
    """Issues the cards of the wave's selected applications with ids from
    ``first_id`` to ``last_id``, all in one transaction: a worker killed
    half-way leaves nothing of the chunk, and the broker gives the task to
    another worker (acknowledged late), which issues it whole."""
    from .services.cards import cards_issue

    ids = list(
        WaveApplication.objects.filter(
            wave_id=wave_id, pk__gte=first_id, pk__lte=last_id, status=WaveApplication.Status.SELECTED
        ).values_list("pk", flat=True)
    )
    issued = cards_issue(wave=Wave.objects.get(pk=wave_id), application_ids=ids)
    log.info("wave %s: %s cards issued (applications %s-%s)", wave_id, issued, first_id, last_id)
    return issued


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_wave_result(wave_id: int) -> None:
    """Emails every applicant of a drawn wave the result."""
    wave = Wave.objects.get(pk=wave_id)
    applications = (
        WaveApplication.objects.filter(wave=wave, notified_at__isnull=True)
        .exclude(status__in=[WaveApplication.Status.APPLIED, WaveApplication.Status.WITHDRAWN])
        .select_related("participant__user")
        .iterator(chunk_size=2000)
    )
    for application in applications:
        _mail(
            application.participant.user,
            "wave_result",
            {"wave": wave, "application": application},
            key=f"wave-result:{application.pk}",
        )
        WaveApplication.objects.filter(pk=application.pk).update(notified_at=timezone.now())


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_deadline_reminder(card_id: int) -> None:
    card = Card.objects.select_related("participant__user").get(pk=card_id)
    if card.status != Card.Status.ACTIVE:
        return
    _mail(card.participant.user, "deadline_reminder", {"card": card}, key=f"deadline-reminder:{card.pk}")
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string("enrollment/email/deadline_reminder_sms.txt", {"card": card}).strip()
    notify_sms(key=f"deadline-reminder-sms:{card.pk}", to=card.participant.phone, body=body)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_card_revoked(card_id: int) -> None:
    card = Card.objects.select_related("participant__user").get(pk=card_id)
    _mail(card.participant.user, "card_revoked", {"card": card}, key=f"card-revoked:{card.pk}")


@shared_task
def expire_vouchers() -> dict:
    """Expires vouchers past their time, and decides requests left undecided."""
    from .services.purchases import enrollments_authorize_stale, enrollments_expire_due

    return {"expired": enrollments_expire_due(), "decided": enrollments_authorize_stale()}


@shared_task
def card_deadlines() -> dict:
    """Reminds of near deadlines, then revokes the cards past theirs."""
    from .services.cards import cards_remind_deadline, cards_revoke_overdue

    return {"reminded": cards_remind_deadline(), "revoked": cards_revoke_overdue()}


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def run_attendance_check(check_id: int) -> str:
    from .services.attendance import attendance_process

    return attendance_process(check_id=check_id)


@shared_task
def attendance_housekeeping() -> tuple[int, int]:
    """Hourly: the frames and photos of checks decided longer ago than the
    retention time deleted, and checks a worker never finished queued again."""
    from .services.attendance import attendance_purge_photos, attendance_requeue_stale

    return attendance_purge_photos(), attendance_requeue_stale()
