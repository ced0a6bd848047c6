"""Reads of the integrity app that other apps need."""

from .models import HOLDING_STATUSES, Case


def holding_case_sql(participant_column: str) -> str:
    """A correlated subquery (for EXISTS) naming the cases that hold money
    of the participant ``participant_column`` refers to: the payout build
    leaves their completed enrolments out."""
    statuses = ", ".join(f"'{status}'" for status in HOLDING_STATUSES)
    return (
        "SELECT 1 FROM integrity_case hc WHERE hc.participant_id = "  # noqa: S608 - constant SQL
        f"{participant_column} AND hc.holds_money AND hc.status IN ({statuses})"
    )


def holding_cases(participant_ids):
    return Case.objects.filter(participant_id__in=participant_ids, status__in=HOLDING_STATUSES, holds_money=True)


def held_participant_ids(participant_ids) -> set[int]:
    return set(holding_cases(participant_ids).values_list("participant_id", flat=True))


def participant_holding_cases(participant) -> list[Case]:
    """What the participant's page tells them about: their cases that hold money."""
    return list(holding_cases([participant.pk]).order_by("created_at"))
