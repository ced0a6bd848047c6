"""Whether a participant's NIK is on one of the PMO's exclusion lists now
(civil servants, military, police, overlapping aid)."""

from ..models import (
    ExclusionEntry,
    ExclusionList,
    Participant,
)


def _exclusion_reason(nik_index: str) -> str | None:
    entry = (
        ExclusionEntry.objects.filter(
            nik_index=nik_index,
            exclusion_list__is_active=True,
            exclusion_list__status=ExclusionList.Status.READY,
        )
        .select_related("exclusion_list")
        .first()
    )
    return entry.exclusion_list.get_kind_display() if entry else None


def participant_exclusion_reason(participant: Participant) -> str | None:
    """The exclusion list (by its kind's name) that now names this
    participant's NIK, if any: lists arrive after people register."""
    return _exclusion_reason(participant.nik_index)


def excluded_participant_ids(participant_ids) -> dict[int, str]:
    """{participant id: list kind (its value)} of those an active exclusion
    list names (the lottery checks a whole wave)."""
    rows = (
        Participant.objects.filter(
            pk__any=participant_ids,
            nik_index__in=ExclusionEntry.objects.filter(
                exclusion_list__is_active=True, exclusion_list__status=ExclusionList.Status.READY
            ).values("nik_index"),
        )
        .values_list("pk", "nik_index")
        .iterator()
    )
    found = dict(rows)
    if not found:
        return {}
    kinds = dict(
        ExclusionEntry.objects.filter(
            nik_index__in=found.values(),
            exclusion_list__is_active=True,
            exclusion_list__status=ExclusionList.Status.READY,
        ).values_list("nik_index", "exclusion_list__kind")
    )
    return {pk: kinds.get(index, "") for pk, index in found.items()}
