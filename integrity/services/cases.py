"""The case queue: opening cases for what a control found, and the PMO's
decisions on them (clear, keep blocked, revoke the card and blacklist,
recover), each recorded with who and why."""

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Participant, User
from prakerja.lifecycle import record_change, record_move

from ..models import CASE_TRANSITIONS, Case, ScreeningRun
from ..selectors import held_participant_ids
from .screening import Finding, Rules, screen

MAX_REASON = 2000


class Decision:
    CLEAR = "clear"
    BLOCK = "block"
    REVOKE = "revoke"
    RECOVER = "recover"


# Decisions that move money (the balance back to the fund): the finance
# checker's; clearing or keeping a hold is the reviewer's.
MONEY_DECISIONS = frozenset({Decision.REVOKE, Decision.RECOVER})

_TARGET = {
    Decision.CLEAR: Case.Status.CLEARED,
    Decision.BLOCK: Case.Status.BLOCKED,
    Decision.REVOKE: Case.Status.REVOKED,
    Decision.RECOVER: Case.Status.RECOVERED,
}


def money_at_stake(participant_ids) -> dict[int, int]:
    """What a hold keeps from moving, by participant: the training balance
    left on the card, the incentive instalments not yet paid and the price
    of completed courses the institution is not yet paid for."""
    from enrollment.models import Card, Enrollment
    from payouts.models import IncentivePayment

    ids = list(participant_ids)
    stake = dict.fromkeys(ids, 0)
    for pid, balance, held in Card.objects.filter(participant_id__in=ids, status=Card.Status.ACTIVE).values_list(
        "participant_id", "account__balance", "account__held"
    ):
        stake[pid] += balance - held
    for row in (
        IncentivePayment.objects.filter(participant_id__in=ids, status=IncentivePayment.Status.SCHEDULED)
        .values("participant_id")
        .annotate(total=Sum("amount"))
    ):
        stake[row["participant_id"]] += row["total"]
    for row in (
        Enrollment.objects.filter(participant_id__in=ids, status=Enrollment.Status.COMPLETED)
        .values("participant_id")
        .annotate(total=Sum("price"))
    ):
        stake[row["participant_id"]] += row["total"]
    return stake


def cases_open(findings: Mapping[int, list[Finding]], *, stage: str, run: ScreeningRun | None = None) -> list[Case]:
    """Opens a case for each finding not already one (the same finding found
    again is the same case, whatever became of it). Returns the new cases."""
    keys = [f.key for found in findings.values() for f in found]
    known = set()
    for start in range(0, len(keys), 5000):
        known.update(Case.objects.filter(key__in=keys[start : start + 5000]).values_list("key", flat=True))
    fresh = [(pid, f) for pid, found in findings.items() for f in found if f.key not in known]
    if not fresh:
        return []
    stake = money_at_stake({pid for pid, _f in fresh})
    cases = [
        Case(
            kind=f.kind,
            stage=stage,
            key=f.key,
            participant_id=pid,
            evidence=f.evidence,
            holds_money=f.refuses,
            amount_held=stake.get(pid, 0) if f.refuses else 0,
            screening_run=run,
        )
        for pid, f in fresh
    ]
    Case.objects.bulk_create(cases, batch_size=2000, ignore_conflicts=True)
    return cases


def participants_hold(people: list[tuple[int, str, Rules]], *, stage: str) -> set[int]:
    """Screens the participants before money of theirs moves: opens a case
    for each new finding and returns those whose money is held (a case that
    holds money, new or not yet decided)."""
    findings = screen(people)
    if findings:
        cases_open(findings, stage=stage)
    return held_participant_ids([pid for pid, _index, _rules in people])


def participant_hold(participant: Participant, wave, *, stage: str) -> bool:
    return bool(participants_hold([(participant.pk, participant.nik_index, Rules.of(wave))], stage=stage))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you decide so: it is recorded with the decision.")})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {"reason": _("Keep the reason under %(limit)d characters.") % {"limit": MAX_REASON}}, code="too_long"
        )
    return reason


def case_decide(*, case_id: int, by: User, decision: str, reason: str) -> Case:
    """An officer's decision on a case; one at a time per case (its row is
    locked), and a decision taken twice is refused in words."""
    if decision not in _TARGET:
        raise ValidationError({"decision": _("Choose a decision.")})
    needed = "integrity.recover_case" if decision in MONEY_DECISIONS else "integrity.decide_case"
    if not by.has_perm(needed):
        raise PermissionDenied
    reason = _reason(reason)
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("participant").get(pk=case_id)
        target = _TARGET[decision]
        payload = {}
        if case.status == target:
            raise ValidationError(
                _("This case is already decided so (%(status)s).") % {"status": case.get_status_display()},
                code="already_decided",
            )
        record_move(case, target, table=CASE_TRANSITIONS, by=by, reason=reason)
        if decision == Decision.REVOKE:
            payload = _revoke(case, by=by, reason=reason)
        elif decision == Decision.RECOVER:
            payload = _recover(case, by=by, reason=reason)
        elif decision == Decision.CLEAR and case.kind == Case.Kind.CONFLICT:
            from .conflicts import conflict_lift

            conflict_lift(case, by=by, reason=reason)
        if case.kind == Case.Kind.NAME_MISMATCH:
            from payouts.services.name_check import name_review_decide

            # Cleared: the account is confirmed; any other decision refuses it.
            name_review_decide(case, approve=decision == Decision.CLEAR, by=by, reason=reason)
        case.decided_at = timezone.now()
        case.decided_by = by
        case.decision_reason = reason
        case.save(update_fields=["status", "decided_at", "decided_by", "decision_reason", "recovered_amount"])
        if payload:
            record_change(case, "case decision", by=by, before={}, after=payload, reason=reason)
    return case


def _revoke(case: Case, *, by: User, reason: str) -> dict:
    from enrollment.services.cards import card_revoke_for_case

    if case.participant_id is None:
        raise ValidationError(_("This case is about no participant."), code="no_participant")
    return card_revoke_for_case(participant_id=case.participant_id, by=by, reason=f"case {case.pk}: {reason}"[:200])


def _recover(case: Case, *, by: User, reason: str) -> dict:
    """A correcting transfer: what is still in the programme's hands of the
    participant's money (training balance left, incentive accrued and not
    paid) goes back to the programme fund, and the instalments not yet paid
    are withheld. Money already paid out is stated, to be claimed back."""
    from enrollment.services.cards import card_balance_recover
    from payouts.services.incentives import incentives_withhold

    if case.participant_id is None:
        raise ValidationError(_("This case is about no participant."), code="no_participant")
    key = f"case:{case.pk}:recover"
    moved = card_balance_recover(participant_id=case.participant_id, key=key, reason=f"case {case.pk}")
    withheld, accrued, paid = incentives_withhold(participant_id=case.participant_id, key=key, reason=f"case {case.pk}")
    case.recovered_amount = moved + withheld + accrued
    return {
        "training_balance_returned": moved,
        "incentives_withheld": withheld,
        "incentive_accrued_returned": accrued,
        "incentives_already_paid": paid,
    }


def case_object(*, case_id: int, participant: Participant, text: str) -> Case:
    """The participant objects to a case that holds their money; the officer
    sees it on the case. A later objection replaces the earlier one while the
    case is undecided."""
    from ..models import HOLDING_STATUSES

    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write why you object.")})
    if len(text) > 2000:
        raise ValidationError({"text": _("Keep your objection under 2000 characters.")}, code="too_long")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id, participant=participant).first()
        if case is None:
            raise ValidationError(_("You have no case with this number."), code="not_found")
        if case.status not in HOLDING_STATUSES:
            raise ValidationError(_("This case has been decided; it takes no more objections."), code="decided")
        before = {"objection": case.objection}
        case.objection = text
        case.objected_at = timezone.now()
        case.save(update_fields=["objection", "objected_at"])
        record_change(case, "objection", by=participant.user, before=before, after={"objection": text}, kind="note")
    return case


def participant_held(*, participant_id: int, nik_index: str, wave, stage: str, record: bool) -> bool:
    """Whether money of this participant may not move now: a case holds it,
    or the lists now say they are outside the target group. ``record``:
    open the cases for what is found (a read for a page records nothing)."""
    people = [(participant_id, nik_index, Rules.of(wave))]
    if record:
        return bool(participants_hold(people, stage=stage))
    if held_participant_ids([participant_id]):
        return True
    keys = [f.key for f in screen(people).get(participant_id, []) if f.refuses]
    return bool(keys) and len(set(Case.objects.filter(key__in=keys).values_list("key", flat=True))) < len(keys)


def enrollments_screen(enrollments, *, stage: str) -> int:
    """Screens the participants of ``enrollments`` (a queryset) in bulk and
    opens the cases found: before the institutions' payout for completed
    courses. Returns how many cases it opened."""
    rows = (
        enrollments.order_by()
        .values_list(
            "participant_id",
            "participant__nik_index",
            "card__wave__max_monthly_wage",
            "card__wave__wage_rule",
            "card__wave__pupils_ineligible",
        )
        .distinct()
    )
    people = [
        (pid, index, Rules(max_monthly_wage=wage, refuse_wage=rule == "refuse", pupils_ineligible=pupils))
        for pid, index, wage, rule, pupils in rows.iterator(chunk_size=5000)
    ]
    opened = 0
    for start in range(0, len(people), 20_000):
        findings = screen(people[start : start + 20_000])
        opened += len(cases_open(findings, stage=stage))
    return opened
