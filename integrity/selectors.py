"""Reads of the integrity app that other apps need."""

from .models import HOLDING_STATUSES, Case


def holding_case_sql(participant_column: str, institution_column: str) -> str:
    """A correlated subquery (for EXISTS) naming the cases that hold money
    of the participant or the institution the columns refer to: the payout
    build leaves their completed enrolments out."""
    statuses = ", ".join(f"'{status}'" for status in HOLDING_STATUSES)
    return (
        "SELECT 1 FROM integrity_case hc WHERE hc.holds_money AND "  # noqa: S608 - constant SQL
        f"hc.status IN ({statuses}) AND (hc.participant_id = {participant_column} "
        f"OR hc.institution_id = {institution_column})"
    )


def holding_cases(participant_ids):
    return Case.objects.filter(participant_id__in=participant_ids, status__in=HOLDING_STATUSES, holds_money=True)


def held_participant_ids(participant_ids) -> set[int]:
    return set(holding_cases(participant_ids).values_list("participant_id", flat=True))


def participant_holding_cases(participant) -> list[Case]:
    """What the participant's page tells them about: their cases that hold money."""
    return list(holding_cases([participant.pk]).order_by("created_at"))
