"""Re-screening everyone holding an active card when a list arrives: the
lists reach the PMO late, so a list imported today must catch who got a card
yesterday. Set-based: one query finds the active cards whose NIK the new
list names, the screening checks them in chunks, and the cases it opens
(holding their money) are the run's report."""

from django.db.models import Sum
from django.utils import timezone

from accounts.models import ExclusionEntry, ExclusionList

from ..models import Case, ScreeningList, ScreeningRecord, ScreeningRun
from .cases import cases_open
from .screening import Rules, screen

_CHUNK = 20_000


def _named(list_kind: str, list_id: int):
    if list_kind == "exclusion":
        return ExclusionEntry.objects.filter(exclusion_list_id=list_id).values("nik_index")
    records = ScreeningRecord.objects.filter(screening_list_id=list_id)
    if list_kind == ScreeningList.Kind.EDUCATION:
        records = records.filter(active_pupil=True)
    return records.values("nik_index")


def _label(list_kind: str, list_id: int) -> str:
    model = ExclusionList if list_kind == "exclusion" else ScreeningList
    return str(model.objects.get(pk=list_id))[:250]


def rescreen(*, list_kind: str, list_id: int) -> ScreeningRun:
    """Screens every active card against the list ``list_id`` (``exclusion``
    or a ScreeningList kind) once; a second run of a finished one does
    nothing, a run stopped midway picks up (its cases are keyed)."""
    from enrollment.models import Card

    run, _created = ScreeningRun.objects.get_or_create(
        list_kind=list_kind, list_id=list_id, defaults={"label": _label(list_kind, list_id)}
    )
    if run.status == ScreeningRun.Status.DONE:
        return run
    kind = {"exclusion": Case.Kind.EXCLUSION, "wage": Case.Kind.WAGE, "education": Case.Kind.PUPIL}[list_kind]
    candidates = (
        Card.objects.filter(status=Card.Status.ACTIVE, participant__nik_index__in=_named(list_kind, list_id))
        .order_by()
        .values_list(
            "participant_id",
            "participant__nik_index",
            "wave__max_monthly_wage",
            "wave__wage_rule",
            "wave__pupils_ineligible",
        )
    )
    chunk = []

    def flush():
        findings = screen(chunk)
        # This run reports what this list found; other lists had their own.
        ours = {
            pid: [f for f in found if f.kind == kind and f.evidence.get("list_id") == list_id]
            for pid, found in findings.items()
        }
        cases_open({pid: found for pid, found in ours.items() if found}, stage=Case.Stage.RESCREEN, run=run)
        chunk.clear()

    for pid, index, wage, rule, pupils in candidates.iterator(chunk_size=_CHUNK):
        chunk.append((pid, index, Rules(max_monthly_wage=wage, refuse_wage=rule == "refuse", pupils_ineligible=pupils)))
        if len(chunk) >= _CHUNK:
            flush()
    if chunk:
        flush()
    totals = run.cases.aggregate(held=Sum("amount_held"))
    run.cards_screened = Card.objects.filter(status=Card.Status.ACTIVE).count()
    run.found_count = run.cases.count()
    run.amount_held = totals["held"] or 0
    run.status = ScreeningRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["cards_screened", "found_count", "amount_held", "status", "finished_at"])
    return run
