"""The participant's status moves (participant lifecycle), one or many."""

from django.db import transaction

from prakerja.lifecycle import record_move, transition_many

from ..models import (
    PARTICIPANT_TRANSITIONS,
    Participant,
    User,
)


def _transition(*, participant: Participant, to: str, by: User | None, reason: str) -> None:
    """Moves a locked participant to ``to`` and records who did it."""
    record_move(participant, to, table=PARTICIPANT_TRANSITIONS, by=by, reason=reason)
    participant.save(update_fields=["status", "updated_at"])


def participant_mark_kyc_verified(*, participant_id: int, by: User | None, reason: str) -> Participant:
    """The identity check accepted the participant (called by the kyc app
    inside its own transaction): profile complete -> KYC verified."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant_id)
        if locked.status != Participant.Status.KYC_VERIFIED:
            _transition(participant=locked, to=Participant.Status.KYC_VERIFIED, by=by, reason=reason)
    return locked


def participant_move(*, participant_id: int, to: str, by: User | None, reason: str) -> Participant:
    """Locks the participant and moves it to ``to`` (a move its lifecycle
    table allows), recording who did it. For other apps' workflows, inside
    their transaction."""
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant_id)
        _transition(participant=locked, to=to, by=by, reason=reason)
    return locked


def participants_move(*, participant_ids: list[int], source: str, to: str, by: User | None, reason: str) -> int:
    """Moves many participants from ``source`` to ``to`` in a few set-based
    queries (the lottery's outcome for a whole wave). Only those still in
    ``source`` move; returns how many did."""
    moved = 0
    for start in range(0, len(participant_ids), 50_000):
        chunk = participant_ids[start : start + 50_000]
        moved += len(
            transition_many(
                Participant, chunk, from_status=source, to=to, table=PARTICIPANT_TRANSITIONS, by=by, reason=reason
            )
        )
    return moved
