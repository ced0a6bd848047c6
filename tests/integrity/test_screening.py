"""Issue 15's eligibility findings, each as it would happen: a wage or
education extract (or an exclusion list) arrives, the control catches the
participant at the step it guards, the right money is held and the case
shows in the queue; an officer's decision lets it move or takes it back."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import roles
from accounts.models import ExclusionList, Participant
from accounts.services.exclusion import exclusion_list_upload
from enrollment.models import Card, Enrollment, WaveApplication
from enrollment.services import purchases, reviews, waves
from integrity.models import Case, ScreeningList, ScreeningRun
from integrity.services.cases import case_decide, case_object
from payments.models import Account
from payouts.models import IncentivePayment, PayoutBatch
from payouts.services import batches, incentives
from payouts.services.name_check import incentive_account_check
from tests.enrollment.conftest import close_window, make_wave, sms_code
from tests.factories import make_staff
from tests.payouts.conftest import completed_enrollment

from .conftest import card_holder, csv_file, ledger_ok, verified_participant

pytestmark = pytest.mark.django_db

W = ScreeningList.Kind.WAGE
E = ScreeningList.Kind.EDUCATION


def fund() -> int:
    return Account.objects.get(kind=Account.Kind.PROGRAMME_FUND).balance


def available(card: Card) -> int:
    account = Account.objects.get(pk=card.account_id)
    return account.balance - account.held


def test_a_wage_above_the_limit_refuses_applying_and_a_flagging_wave_opens_a_case(committed, import_list):
    earner = verified_participant(committed)
    import_list(W, {earner: 5_200_000})
    strict = make_wave(number=1, max_monthly_wage=3_500_000)
    with pytest.raises(ValidationError) as refused:
        waves.wave_apply(participant=earner, wave=strict)
    assert refused.value.code == "wage_above_limit"
    assert "Rp 5.200.000" in refused.value.messages[0] and "Rp 3.500.000" in refused.value.messages[0]
    assert not WaveApplication.objects.filter(participant=earner).exists()
    # Refused for this wave only: the data may change before the next.
    assert Participant.objects.get(pk=earner.pk).status == "kyc_verified"

    lenient = make_wave(number=2, max_monthly_wage=3_500_000, wage_rule="flag")
    waves.wave_apply(participant=earner, wave=lenient)
    case = Case.objects.get(participant=earner)
    assert (case.kind, case.stage, case.status, case.holds_money) == ("wage", "apply", "open", False)
    assert case.evidence["monthly_wage"] == 5_200_000 and case.evidence["employer"] == "PT Sinar Jaya"


def test_the_draw_skips_those_a_list_named_after_they_applied(committed, import_list):
    wave = make_wave(number=1, quota=10)
    pupil, earner, fine = (verified_participant(committed) for _ in range(3))
    for person in (pupil, earner, fine):
        waves.wave_apply(participant=person, wave=wave)
    import_list(E, {pupil: "Aktif"})
    import_list(W, {earner: 9_000_000, fine: 2_000_000})
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    outcome = dict(WaveApplication.objects.filter(wave=wave).values_list("participant_id", "ineligible_reason"))
    assert outcome == {pupil.pk: "pupil", earner.pk: "wage", fine.pk: ""}
    assert Card.objects.filter(participant=fine).exists()
    assert not Card.objects.filter(participant__in=[pupil, earner]).exists()
    # Out of this wave, not of the programme.
    assert set(Participant.objects.filter(pk__in=[pupil.pk, earner.pk]).values_list("status", flat=True)) == {
        "eligible"
    }


def test_a_wage_extract_after_the_card_holds_its_balance_and_declines_the_purchase(committed, import_list, courses):
    card = card_holder(committed)
    other = card_holder(committed)
    (course,) = courses(300_000)
    wage_list = import_list(W, {card.participant: 4_100_000, other.participant: 3_500_000})
    assert (wage_list.status, wage_list.row_count) == ("ready", 2)

    # The import re-screened every active card: one is over the limit.
    run = ScreeningRun.objects.get(list_kind="wage", list_id=wage_list.pk)
    assert (run.status, run.cards_screened, run.found_count, run.amount_held) == ("done", 2, 1, 1_000_000)
    case = Case.objects.get()
    assert (case.participant_id, case.stage, case.amount_held, case.screening_run_id) == (
        card.participant_id,
        "rescreen",
        1_000_000,
        run.pk,
    )

    declined = purchases.enrollment_submit(participant=card.participant, course=course, request_key="k1")
    assert (declined.status, declined.decline_code) == ("declined", "case_held")
    assert available(card) == 1_000_000
    bought = purchases.enrollment_submit(participant=other.participant, course=course, request_key="k2")
    assert bought.status == "authorised"

    # The officer clears it (the extract was wrong): the money moves again.
    case_decide(case_id=case.pk, by=make_staff(roles.PMO_KYC_REVIEWER), decision="clear", reason="BPJS corrected")
    again = purchases.enrollment_submit(participant=card.participant, course=course, request_key="k3")
    assert again.status == "authorised"
    # Cleared stays cleared at the next purchase: the same finding is the same case.
    assert Case.objects.count() == 1
    ledger_ok()


def test_a_newer_lower_wage_clears_the_finding_of_an_older_month(committed, import_list, courses):
    card = card_holder(committed)
    (course,) = courses(300_000)
    import_list(W, {card.participant: 2_000_000}, month="2026-11")
    import_list(W, {card.participant: 6_000_000}, month="2026-09")  # an older month, imported later
    assert not Case.objects.exists()
    assert purchases.enrollment_submit(participant=card.participant, course=course, request_key="k").status == (
        "authorised"
    )


def test_an_exclusion_list_imported_late_rescreens_active_cards(committed, courses, officer):
    card = card_holder(committed)
    (course,) = courses(300_000)
    upload = csv_file("nik", card.participant.nik)
    committed(exclusion_list_upload, kind="civil_servant", source="BKN 2026-11", csv_file=upload, imported_by=officer)
    assert ExclusionList.objects.get().status == "ready"
    case = Case.objects.get()
    assert (case.kind, case.stage, case.amount_held) == ("exclusion", "rescreen", 1_000_000)
    assert case.evidence["source"] == "BKN 2026-11"
    assert purchases.purchase_obstacle(participant=card.participant, course=course) == "case_held"


def test_a_pupil_found_at_purchase_time_opens_the_case_there(committed, courses, import_list):
    card = card_holder(committed)
    (course,) = courses(250_000)
    # The card is no longer active when the list comes (so no re-screen
    # catches it): the purchase's own check does.
    Card.objects.filter(pk=card.pk).update(status="completed", closed_at=timezone.now())
    import_list(E, {card.participant: "aktif"})
    assert not Case.objects.exists()
    Card.objects.filter(pk=card.pk).update(status="active", closed_at=None)
    declined = purchases.enrollment_submit(participant=card.participant, course=course, request_key="k")
    assert declined.decline_code == "case_held"
    case = Case.objects.get()
    assert (case.kind, case.stage, case.amount_held) == ("pupil", "purchase", 1_000_000)


def test_an_incentive_instalment_waits_for_the_case_and_recovery_returns_the_money(committed, world, import_list, bank):
    institution, staff = world["institution"]("LPK Insentif")
    enrollment = completed_enrollment(committed, world, institution, staff)
    participant = enrollment.participant
    reviews.review_create(participant=participant, enrollment_id=enrollment.pk, rating=5, text="Bagus sekali")
    incentives.incentives_schedule(participant=participant)
    committed(
        incentives.incentive_account_start,
        participant=participant,
        channel_code="ID_OVO",
        account_number="081234567890",
        account_holder=participant.full_name,
    )
    account = incentives.incentive_account_confirm(participant=participant, code=sms_code())
    assert incentive_account_check(account_id=account.pk) == "confirmed"  # the bank's name inquiry
    first = IncentivePayment.objects.get(participant=participant, kind="post_training", number=1)
    # The card is completed (not re-screened); the payment's own check finds the wage.
    Card.objects.filter(participant=participant).update(status="completed", closed_at=timezone.now())
    import_list(W, {participant: 7_000_000})
    assert incentives.incentive_pay(incentive_id=first.pk) is None
    case = Case.objects.get(participant=participant)
    scheduled = sum(IncentivePayment.objects.filter(participant=participant).values_list("amount", flat=True))
    # Held: every unpaid instalment and the institution's unpaid fee.
    assert (case.stage, case.amount_held) == ("incentive", scheduled + enrollment.price)
    assert IncentivePayment.objects.get(pk=first.pk).status == "scheduled"

    # The institution's payout waits for the case too.
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    with pytest.raises(ValidationError):
        batches.payout_batch_build(by=maker, cutoff=timezone.now())
    assert not PayoutBatch.objects.exists()

    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    with pytest.raises(PermissionDenied):
        case_decide(case_id=case.pk, by=reviewer, decision="recover", reason="earns too much")
    case_decide(case_id=case.pk, by=reviewer, decision="block", reason="wage confirmed with BPJS")
    before = fund()
    checker = make_staff(roles.PMO_FINANCE_CHECKER)
    with pytest.raises(PermissionDenied):
        case_decide(case_id=case.pk, by=checker, decision="clear", reason="x")
    left = available(Card.objects.get(participant=participant))
    assert left == 700_000
    case = case_decide(case_id=case.pk, by=checker, decision="recover", reason="not in the target group")
    assert case.status == "recovered" and case.recovered_amount == scheduled + left
    assert set(IncentivePayment.objects.filter(participant=participant).values_list("status", flat=True)) == {
        "withheld"
    }
    # The card's balance left goes back; nothing had been accrued, the instalments are simply never paid.
    assert fund() == before + left and available(Card.objects.get(participant=participant)) == 0
    # Decided once: a second click is told so.
    with pytest.raises(ValidationError):
        case_decide(case_id=case.pk, by=checker, decision="recover", reason="again")
    # Recovered is final: the hold is lifted, the institution is paid for the training it gave.
    batch = batches.payout_batch_build(by=maker, cutoff=timezone.now())
    assert batch.enrollment_count == 1
    ledger_ok()


def test_revoking_returns_the_balance_cancels_unused_vouchers_and_blacklists(committed, courses, import_list):
    card = card_holder(committed)
    (course,) = courses(300_000)
    voucher = purchases.enrollment_submit(participant=card.participant, course=course, request_key="k")
    assert voucher.status == "authorised"
    before = fund()
    import_list(W, {card.participant: 8_000_000})
    case = Case.objects.get()
    assert case.amount_held == 700_000  # what is left on the card; the voucher's hold stays until decided
    with pytest.raises(PermissionDenied):  # it moves money: not the reviewer's
        case_decide(case_id=case.pk, by=make_staff(roles.PMO_KYC_REVIEWER), decision="revoke", reason="manager")
    reviewer = make_staff(roles.PMO_FINANCE_CHECKER)
    case_decide(case_id=case.pk, by=reviewer, decision="revoke", reason="manager at PT Sinar Jaya")
    assert Enrollment.objects.get(pk=voucher.pk).status == "cancelled"
    assert Card.objects.get(pk=card.pk).status == "revoked"
    assert Participant.objects.get(pk=card.participant_id).status == "revoked"
    assert available(card) == 0 and fund() == before + 1_000_000
    events = list(case.events.values_list("to_status", "actor_id", "reason"))
    assert ("revoked", reviewer.pk, "manager at PT Sinar Jaya") in events
    ledger_ok()


def test_a_decision_needs_a_reason_and_a_role(committed, import_list):
    card = card_holder(committed)
    import_list(W, {card.participant: 8_000_000})
    case = Case.objects.get()
    reviewer = make_staff(roles.PMO_KYC_REVIEWER)
    for reason in ("", "   ", "x" * 2001):
        with pytest.raises(ValidationError):
            case_decide(case_id=case.pk, by=reviewer, decision="clear", reason=reason)
    with pytest.raises(PermissionDenied):
        case_decide(case_id=case.pk, by=make_staff(roles.PMO_CURATOR), decision="clear", reason="ok")
    assert Case.objects.get().status == "open"


def test_the_participant_objects_to_their_own_case_only(committed, import_list):
    card = card_holder(committed)
    stranger = card_holder(committed)
    import_list(W, {card.participant: 8_000_000})
    case = Case.objects.get()
    with pytest.raises(ValidationError) as exc:
        case_object(case_id=case.pk, participant=stranger.participant, text="bukan saya")
    assert exc.value.code == "not_found"
    for text in ("", "x" * 2001):
        with pytest.raises(ValidationError):
            case_object(case_id=case.pk, participant=card.participant, text=text)
    case_object(case_id=case.pk, participant=card.participant, text="I was laid off in October.")
    assert Case.objects.get().objection == "I was laid off in October."
    case_decide(case_id=case.pk, by=make_staff(roles.PMO_KYC_REVIEWER), decision="clear", reason="laid off")
    with pytest.raises(ValidationError):
        case_object(case_id=case.pk, participant=card.participant, text="again")


def test_bad_extracts_are_refused_or_their_bad_rows_skipped(committed, officer, import_list):
    from integrity.services.lists import screening_list_upload

    def refused(kind, content: bytes, source="BPJS"):
        with pytest.raises(ValidationError) as exc:
            screening_list_upload(kind=kind, source=source, csv_file=io.BytesIO(content), imported_by=officer)
        return exc.value.message_dict

    assert "file" in refused(W, b"nik,monthly_wage\n3201011708950001,1\n")  # columns missing
    assert "file" in refused(W, "nik,monthly_wage,employer,month\n".encode("utf-16"))
    assert "file" in refused(E, b"\x89PNG\r\n\x1a\n\x00\x00")
    assert "source" in refused(E, b"nik,status,institution\n1,aktif,x\n", source=" ")
    assert "kind" in refused("salary", b"nik\n1\n")
    assert not ScreeningList.objects.exists()

    person = verified_participant(committed)
    made = import_list(
        W,
        {person: 4_000_000},
        extra_lines=["12345,4000000,PT X,2026-10", f"{person.nik},lots,PT X,2026-10", "3201011708950001,1,PT,13/2026"],
    )
    assert (made.status, made.row_count, made.skipped_count) == ("ready", 1, 3)
    upload = SimpleUploadedFile("x.csv", b"nik,status,institution\n")
    assert "file" in refused(E, upload.read())
