"""Waves: applying, withdrawing, and the selection lottery."""

import hashlib
import json
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import crypto
from accounts.models import Participant, User
from accounts.services.eligibility import excluded_participant_ids, participant_exclusion_reason
from accounts.services.status import participant_move, participants_move
from audit.models import AuditEvent
from integrity.models import Case
from integrity.services.cases import cases_open
from integrity.services.screening import Rules, screen, screen_one
from prakerja.lifecycle import _plain, check_move, record_created, record_move, save_edit
from prakerja.locks import advisory_xact_lock

from .. import lottery
from ..models import APPLICATION_TRANSITIONS, RULE_BOUNDS, WAVE_TRANSITIONS, Wave, WaveApplication

P = Participant.Status
A = WaveApplication.Status

# Where a participant may apply from: verified (eligibility is confirmed on
# applying), eligible, or not selected in an earlier wave.
_MAY_APPLY = (P.KYC_VERIFIED, P.ELIGIBLE, P.NOT_SELECTED)

# Applying and withdrawing hold this lock shared (they run side by side);
# the draw holds it exclusively, so no application changes under it.
_WAVE_LOCK = 0x57415645  # "WAVE"


def _is_open(wave: Wave, now) -> bool:
    return wave.status == Wave.Status.OPEN and wave.opens_at <= now < wave.closes_at


def open_waves():
    now = timezone.now()
    return Wave.objects.filter(status=Wave.Status.OPEN, opens_at__lte=now, closes_at__gt=now).order_by("number")


def _cannot_apply(status: str) -> ValidationError:
    messages = {
        P.REGISTERED: _("Verify your mobile number and your identity first."),
        P.PROFILE_COMPLETE: _("Pass the identity check first."),
        P.APPLIED: _("You have already applied to a wave. Wait for its result."),
        P.SELECTED: _("You have already been selected and have a card."),
        P.REVOKED: _("Your card was revoked; you cannot join the programme again."),
        P.INELIGIBLE: _("You are not eligible for the programme."),
    }
    return ValidationError(messages.get(status, _("You cannot apply now.")), code=f"status_{status}")


def apply_obstacle(participant: Participant) -> str:
    """Why the participant cannot apply to any wave now, in words, or "":
    the page shows it instead of a button that could only be refused."""
    if participant.status in _MAY_APPLY:
        return ""
    return " ".join(_cannot_apply(participant.status).messages)


def wave_rules_save(*, wave: Wave, fields: list[str], by: User) -> dict:
    """PMO staff edit a draft wave's window, quota or programme rules: only
    the fields they changed, under the wave's lock; each change is recorded
    with what it was and became. Once a second officer approved the rules by
    opening the wave, they are fixed (the lottery and the cards use them)."""

    def still_draft(current: Wave) -> None:
        if current.status == Wave.Status.DRAWN:
            raise ValidationError(_("The selection of this wave has run; it can no longer be changed."), code="drawn")
        if current.status != Wave.Status.DRAFT:
            raise ValidationError(
                _("The rules of this wave were approved when it opened; they can no longer be changed."),
                code="approved",
            )

    return save_edit(wave, fields, by=by, name="wave rules", check=still_draft)


RULE_FIELDS = ("opens_at", "closes_at", "quota", *RULE_BOUNDS, "attendance_rule", "wage_rule", "pupils_ineligible")


def wave_rules_setters(wave: Wave) -> set[int]:
    """Who created or edited the wave's rules (their ids, from its history)."""
    return set(wave.events.filter(kind=AuditEvent.Kind.SETTING, actor__isnull=False).values_list("actor_id", flat=True))


def _approved_rules(wave: Wave) -> tuple[dict, dict]:
    quotas = {q.province_code: q.quota for q in wave.province_quotas.order_by("province_code")}
    return {name: _plain(getattr(wave, name)) for name in RULE_FIELDS}, quotas


def wave_rules_digest(wave: Wave) -> str:
    """A fingerprint of the rules and quotas as they are now: the approval
    page carries it, so what is approved is what the approver saw."""
    rules, quotas = _approved_rules(wave)
    return hashlib.sha256(json.dumps([rules, quotas], sort_keys=True, default=str).encode()).hexdigest()


def wave_open(*, wave: Wave, by: User, seen: str | None = None) -> Wave:
    """Draft -> open: a second finance officer approves the wave's rules as
    they are and participants can apply within its window. Whoever set or
    edited the rules cannot approve them; rules changed since the approver's
    page showed them (``seen``, their wave_rules_digest) are not approved;
    the approved rules (province quotas included) are recorded with the move."""
    if not by.has_perm("enrollment.open_wave"):
        raise PermissionDenied
    with transaction.atomic():
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        if locked.status != Wave.Status.DRAFT:
            raise ValidationError(_("Only a draft wave can be opened."), code="not_draft")
        if by.pk in wave_rules_setters(locked):
            raise ValidationError(
                _("You set or changed the rules of this wave: another PMO finance checker approves and opens it."),
                code="own_rules",
            )
        try:
            locked.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ValidationError(
                _("The rules of this wave are not complete or out of bounds: %(problems)s")
                % {"problems": " ".join(exc.messages)},
                code="bad_rules",
            ) from exc
        if seen is not None and seen != wave_rules_digest(locked):
            raise ValidationError(
                _("The rules of this wave changed after your page showed them. Look at them again before approving."),
                code="rules_changed",
            )
        approved, quotas = _approved_rules(locked)
        seed = secrets.token_hex(32)
        locked.sealed_seed = crypto.encrypt(seed)
        locked.draw_commitment = seed_commitment(seed)
        record_move(
            locked,
            Wave.Status.OPEN,
            table=WAVE_TRANSITIONS,
            by=by,
            reason="rules approved",
            payload={"rules": approved, "province_quotas": quotas, "seed_sha256": locked.draw_commitment},
        )
        locked.save(update_fields=["status", "sealed_seed", "draw_commitment"])
    return locked


def seed_commitment(seed: str) -> str:
    """What the public page shows before the draw: SHA-256 of the seed's text."""
    return hashlib.sha256(seed.encode()).hexdigest()


def wave_apply(*, participant: Participant, wave: Wave) -> WaveApplication:
    """The participant applies to an open wave."""
    excluded = None
    with transaction.atomic():
        advisory_xact_lock(_WAVE_LOCK, wave.pk, shared=True)
        locked_wave = Wave.objects.get(pk=wave.pk)
        if not _is_open(locked_wave, timezone.now()):
            raise ValidationError(_("Registration for this wave is closed."), code="wave_closed")
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if locked.status not in _MAY_APPLY:
            raise _cannot_apply(locked.status)
        excluded = participant_exclusion_reason(locked)
        refusal = None if excluded else _screening_refusal(locked, locked_wave)
        if refusal is not None:
            pass  # refused below, nothing recorded: the data may change before the next wave
        elif excluded:
            # Recorded, then refused below (outside this transaction).
            participant_move(participant_id=locked.pk, to=P.INELIGIBLE, by=None, reason=f"exclusion list: {excluded}")
        else:
            if locked.status == P.KYC_VERIFIED:
                participant_move(participant_id=locked.pk, to=P.ELIGIBLE, by=None, reason="eligibility checked")
            application, created = WaveApplication.objects.get_or_create(
                wave=locked_wave,
                participant=locked,
                defaults={"province_code": locked.province_code},
            )
            if created:
                record_created(application, A.APPLIED, by=locked.user)
            else:
                if application.status != A.WITHDRAWN:
                    raise ValidationError(_("You have already applied to this wave."), code="already_applied")
                record_move(
                    application, A.APPLIED, table=APPLICATION_TRANSITIONS, by=locked.user, reason="applied again"
                )
                application.province_code = locked.province_code
                application.save(update_fields=["status", "province_code", "updated_at"])
            participant_move(
                participant_id=locked.pk, to=P.APPLIED, by=None, reason=f"applied to wave {locked_wave.number}"
            )
    if refusal is not None:
        raise refusal
    if excluded:
        raise ValidationError(
            _("Your NIK is on an exclusion list of the programme (%(list)s), so you are not eligible.")
            % {"list": excluded},
            code="excluded",
        )
    return application


def _rupiah(amount: int) -> str:
    return "Rp " + f"{amount:,}".replace(",", ".")


def _screening_refusal(participant: Participant, wave: Wave) -> ValidationError | None:
    """What the wage and education extracts say against applying to this
    wave, as the refusal the participant reads; a finding the wave only
    flags opens a case for review and refuses nothing."""
    findings = [f for f in screen_one(participant, wave) if f.kind != Case.Kind.EXCLUSION]
    flagged = {participant.pk: [f for f in findings if not f.refuses]}
    if flagged[participant.pk]:
        cases_open(flagged, stage=Case.Stage.APPLY)
    for finding in findings:
        if not finding.refuses:
            continue
        evidence = finding.evidence
        if finding.kind == Case.Kind.WAGE:
            return ValidationError(
                _(
                    "The social-security agency (BPJS Ketenagakerjaan) reports a monthly wage of %(wage)s for you "
                    "(%(month)s), above this wave's limit of %(limit)s, so you cannot apply to it. If this is "
                    "wrong, ask your employer or BPJS Ketenagakerjaan to correct it; you may apply to a later wave."
                )
                % {
                    "wage": _rupiah(evidence["monthly_wage"]),
                    "month": evidence["month"] or "-",
                    "limit": _rupiah(evidence["limit"]),
                },
                code="wage_above_limit",
            )
        return ValidationError(
            _(
                "The education registry lists you as an active pupil (%(school)s), and pupils cannot join the "
                "programme. If you have left school, ask the school to update the registry; you may apply to a "
                "later wave."
            )
            % {"school": evidence.get("school") or "-"},
            code="active_pupil",
        )
    return None


def wave_withdraw(*, participant: Participant, wave: Wave) -> WaveApplication:
    """Withdraws an application while the wave is still open."""
    with transaction.atomic():
        advisory_xact_lock(_WAVE_LOCK, wave.pk, shared=True)
        locked_wave = Wave.objects.get(pk=wave.pk)
        application = (
            WaveApplication.objects.select_for_update().filter(wave=locked_wave, participant=participant).first()
        )
        if application is None or application.status != A.APPLIED:
            raise ValidationError(_("You have no application in this wave to withdraw."), code="not_applied")
        if not _is_open(locked_wave, timezone.now()):
            raise ValidationError(
                _("Registration for this wave has closed; the application can no longer be withdrawn."),
                code="wave_closed",
            )
        record_move(application, A.WITHDRAWN, table=APPLICATION_TRANSITIONS, by=participant.user)
        application.save(update_fields=["status", "updated_at"])
        participant_move(participant_id=participant.pk, to=P.ELIGIBLE, by=None, reason="withdrew the application")
    return application


def wave_draw(*, wave: Wave, by: User) -> Wave:
    """Runs the wave's lottery, once, after its window closed: those no
    longer eligible are skipped, the rest drawn within the quotas. Cards and
    the news follow from Celery tasks once committed."""
    from ..tasks import issue_wave_cards, notify_wave_result

    with transaction.atomic():
        # The wave row lock makes the draw run once; the advisory lock waits
        # for applications and withdrawals under way to finish.
        locked = Wave.objects.select_for_update().get(pk=wave.pk)
        advisory_xact_lock(_WAVE_LOCK, locked.pk)
        wave_check_drawable(wave=locked)
        now = timezone.now()
        rows = list(
            WaveApplication.objects.select_for_update()
            .filter(wave=locked, status=A.APPLIED)
            .order_by("pk")
            .values_list("pk", "participant_id", "province_code")
        )
        participant_of = {pk: participant_id for pk, participant_id, _prov in rows}
        excluded = excluded_participant_ids(list(participant_of.values()))
        excluded.update(_draw_screening(locked, [pid for pid in participant_of.values() if pid not in excluded]))
        # A participant whose status moved on (say, revoked by the PMO) is no
        # longer applying either.
        still_applied = set(
            Participant.objects.filter(pk__any=participant_of.values(), status=P.APPLIED).values_list("pk", flat=True)
        )
        ineligible = [pk for pk, pid, _p in rows if pid in excluded or pid not in still_applied]
        candidates = [
            lottery.Candidate(pk, province)
            for pk, pid, province in rows
            if pid not in excluded and pid in still_applied
        ]
        if locked.sealed_seed:
            # The seed committed to when the wave opened, and no other.
            seed = crypto.decrypt(locked.sealed_seed)
            if seed_commitment(seed) != locked.draw_commitment:
                raise ValidationError(_("The sealed lottery seed does not match its published hash."), code="seed")
        else:  # a wave opened before seeds were committed
            seed = secrets.token_hex(32)
        quotas = dict(locked.province_quotas.values_list("province_code", "quota"))
        order, selected = lottery.draw(seed, candidates, quota=locked.quota, province_quotas=quotas)

        # The applications move in bulk, checked against their table; each
        # participant's own move records it, and the wave's draw event counts them.
        for target in (A.INELIGIBLE, A.SELECTED, A.NOT_SELECTED):
            check_move(APPLICATION_TRANSITIONS, A.APPLIED, target)
        reasons = {pk: excluded.get(participant_of[pk], "") for pk in ineligible}
        for reason in set(reasons.values()):
            WaveApplication.objects.filter(pk__any=[pk for pk, r in reasons.items() if r == reason]).update(
                status=A.INELIGIBLE, ineligible_reason=reason, updated_at=now
            )
        excluded_ids = [participant_of[pk] for pk in ineligible if participant_of[pk] in excluded]
        # Listed: barred from the programme. Above the wage limit or at school:
        # out of this wave only (the data may change before the next).
        listed = [pid for pid in excluded_ids if excluded[pid] not in _SCREENED_OUT]
        participants_move(
            participant_ids=listed, source=P.APPLIED, to=P.INELIGIBLE, by=by, reason="exclusion list at selection"
        )
        participants_move(
            participant_ids=[pid for pid in excluded_ids if excluded[pid] in _SCREENED_OUT],
            source=P.APPLIED,
            to=P.ELIGIBLE,
            by=by,
            reason="wage or education data at selection",
        )
        _record_draw(order, selected, now)
        chosen = [pk for pk in order if pk in selected]
        passed = [pk for pk in order if pk not in selected]
        reason = f"wave {locked.number} selection"
        participants_move(
            participant_ids=[participant_of[pk] for pk in chosen], source=P.APPLIED, to=P.SELECTED, by=by, reason=reason
        )
        participants_move(
            participant_ids=[participant_of[pk] for pk in passed],
            source=P.APPLIED,
            to=P.NOT_SELECTED,
            by=by,
            reason=reason,
        )
        record_move(
            locked,
            Wave.Status.DRAWN,
            table=WAVE_TRANSITIONS,
            by=by,
            reason=reason,
            payload={"selected": len(chosen), "not_selected": len(passed), "ineligible": len(ineligible)},
        )
        locked.draw_quotas = {"quota": locked.quota, "provinces": quotas}
        locked.draw_digest = _digest(candidates, reasons, locked.draw_quotas)
        locked.draw_seed = seed
        locked.sealed_seed = ""
        locked.drawn_at = now
        locked.drawn_by = by
        locked.save(
            update_fields=["status", "draw_seed", "sealed_seed", "draw_digest", "draw_quotas", "drawn_at", "drawn_by"]
        )
        wave_id = locked.pk
        transaction.on_commit(lambda: issue_wave_cards.delay(wave_id))
        transaction.on_commit(lambda: notify_wave_result.delay(wave_id))
    return locked


_SCREENED_OUT = (Case.Kind.WAGE, Case.Kind.PUPIL)


def _record_draw(order: list[int], selected: set[int], now) -> None:
    """Every drawn application's position and outcome in one UPDATE (the
    ids, positions and outcomes go as three arrays, whatever their number)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollment_waveapplication AS a SET draw_position = v.position, "
            "status = CASE WHEN v.chosen THEN %s ELSE %s END, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::integer[], %s::boolean[]) AS v(id, position, chosen) WHERE a.id = v.id",
            [A.SELECTED, A.NOT_SELECTED, now, order, list(range(1, len(order) + 1)), [pk in selected for pk in order]],
        )


def _draw_screening(wave: Wave, participant_ids: list[int]) -> dict[int, str]:
    """The wage and education extracts at the draw: {participant id: why
    skipped} for those the wave's rules refuse; flagged findings open cases."""
    rules = Rules.of(wave)
    people = [
        (pid, index, rules)
        for pid, index in Participant.objects.filter(pk__any=participant_ids).values_list("pk", "nik_index").iterator()
    ]
    findings = screen(people)
    flagged = {pid: [f for f in found if not f.refuses] for pid, found in findings.items()}
    cases_open({pid: found for pid, found in flagged.items() if found}, stage=Case.Stage.DRAW)
    skipped = {}
    for pid, found in findings.items():
        refusing = [f.kind for f in found if f.refuses and f.kind in _SCREENED_OUT]
        if refusing:
            skipped[pid] = refusing[0]
    return skipped


def _digest(candidates: list, skipped: dict[int, str], quotas: dict) -> str:
    document = {
        "candidates": sorted([c.application_id, c.province_code] for c in candidates),
        "skipped": sorted([pk, reason] for pk, reason in skipped.items()),
        "quotas": quotas,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def wave_check_drawable(*, wave: Wave) -> None:
    """Refuses, with the reason, a draw that wave_draw would refuse."""
    if wave.status == Wave.Status.DRAWN:
        raise ValidationError(_("The selection of this wave has already been run."), code="already_drawn")
    if wave.status != Wave.Status.OPEN:
        raise ValidationError(_("Open the wave before running its selection."), code="not_open")
    if timezone.now() < wave.closes_at:
        raise ValidationError(_("Registration is still open; run the selection after it closes."), code="window_open")


def wave_verify_draw(*, wave: Wave) -> list[str]:
    """Runs the recorded lottery again from its seed and the recorded list of
    those who took part; returns the differences (none if it matches)."""
    if wave.status != Wave.Status.DRAWN:
        return [_("The selection of this wave has not been run.")]
    taking_part = list(
        WaveApplication.objects.filter(wave=wave, draw_position__isnull=False)
        .order_by("pk")
        .values_list("pk", "province_code", "draw_position", "status")
    )
    candidates = [lottery.Candidate(pk, province) for pk, province, _pos, _st in taking_part]
    skipped = dict(
        WaveApplication.objects.filter(wave=wave, status=A.INELIGIBLE).values_list("pk", "ineligible_reason")
    )
    problems = []
    if _digest(candidates, skipped, wave.draw_quotas) != wave.draw_digest:
        problems.append(_("The recorded list of those who took part, or the quotas, changed after the draw."))
    quotas = wave.draw_quotas
    order, selected = lottery.draw(
        wave.draw_seed, candidates, quota=quotas["quota"], province_quotas=quotas["provinces"]
    )
    position = {pk: i for i, pk in enumerate(order, start=1)}
    for pk, _province, recorded_position, status in taking_part:
        expected = A.SELECTED if pk in selected else A.NOT_SELECTED
        if position[pk] != recorded_position or status != expected:
            problems.append(
                _(
                    "Application %(id)s: recorded %(status)s at %(recorded)s, "
                    "the draw gives %(expected)s at %(position)s."
                )
                % {
                    "id": pk,
                    "status": status,
                    "recorded": recorded_position,
                    "expected": expected,
                    "position": position[pk],
                }
            )
    return problems
