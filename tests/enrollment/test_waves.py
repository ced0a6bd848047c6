"""Waves: applying, withdrawing, the reproducible lottery, cards and their
first-purchase deadline."""

import datetime
import io

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from stdnum import luhn

from accounts import roles
from accounts.models import ExclusionList, Participant
from accounts.services.exclusion import exclusion_list_upload
from enrollment import lottery
from enrollment.models import Card, Wave, WaveApplication, WaveProvinceQuota
from enrollment.services import waves
from enrollment.tasks import card_deadlines
from payments.models import Account
from tests.factories import make_participant, make_staff

from .conftest import card_holder, close_window, ledger_ok, make_wave, verified_participant

pytestmark = pytest.mark.django_db


def exclude(committed, participant):
    upload = io.BytesIO(f"nik\n{participant.nik}\n".encode())
    committed(
        exclusion_list_upload,
        kind=ExclusionList.Kind.CIVIL_SERVANT,
        source="BKN",
        csv_file=upload,
        imported_by=make_staff(roles.PMO_KYC_REVIEWER),
    )


def test_a_verified_participant_applies_withdraws_and_applies_again(committed):
    participant = verified_participant(committed)
    wave = make_wave()
    waves.wave_apply(participant=participant, wave=wave)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.APPLIED
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=participant, wave=wave)
    assert err.value.messages == ["You have already applied to a wave. Wait for its result."]

    waves.wave_withdraw(participant=participant, wave=wave)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.ELIGIBLE
    application = waves.wave_apply(participant=participant, wave=wave)
    assert application.status == WaveApplication.Status.APPLIED
    assert WaveApplication.objects.filter(participant=participant).count() == 1
    moves = list(participant.events.values_list("to_status", flat=True))
    assert moves[-4:] == ["eligible", "applied", "eligible", "applied"]


def test_who_cannot_apply_is_told_why_and_nothing_changes(committed):
    wave = make_wave()
    newcomer = make_participant()
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=newcomer, wave=wave)
    assert err.value.messages == ["Verify your mobile number and your identity first."]
    assert not WaveApplication.objects.exists()

    participant = verified_participant(committed)
    close_window(wave)
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=participant, wave=wave)
    assert err.value.messages == ["Registration for this wave is closed."]
    participant.refresh_from_db()
    assert participant.status == Participant.Status.KYC_VERIFIED


def test_an_excluded_nik_is_refused_on_applying_and_marked_ineligible(committed):
    participant = verified_participant(committed)
    exclude(committed, participant)
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=participant, wave=make_wave())
    assert err.value.code == "excluded"
    assert "exclusion list" in err.value.messages[0]
    participant.refresh_from_db()
    assert participant.status == Participant.Status.INELIGIBLE
    assert not WaveApplication.objects.exists()


def test_withdrawal_after_the_window_closed_is_refused(committed):
    participant = verified_participant(committed)
    wave = make_wave()
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    with pytest.raises(ValidationError) as err:
        waves.wave_withdraw(participant=participant, wave=wave)
    assert err.value.code == "wave_closed"


def test_the_lottery_respects_quotas_skips_the_ineligible_and_can_be_rerun_by_anyone(committed, settings):
    wave = make_wave(quota=6)
    # Quotas that add up to the total, so the outcome per province does not
    # depend on the seed (a province quota is a cap, not a floor).
    WaveProvinceQuota.objects.create(wave=wave, province_code="32", quota=2)
    WaveProvinceQuota.objects.create(wave=wave, province_code="35", quota=4)
    people = [verified_participant(committed, province="32") for _i in range(6)]
    people += [verified_participant(committed, province="35") for _i in range(6)]
    for person in people:
        waves.wave_apply(participant=person, wave=wave)
    exclude(committed, people[0])  # found on a list after applying
    checker = make_staff(roles.PMO_FINANCE_CHECKER)

    with pytest.raises(ValidationError) as err:
        waves.wave_draw(wave=wave, by=checker)
    assert err.value.code == "window_open"

    close_window(wave)
    mail.outbox.clear()
    committed(waves.wave_draw, wave=wave, by=checker)
    wave.refresh_from_db()
    assert wave.status == Wave.Status.DRAWN and len(wave.draw_seed) == 64

    apps = WaveApplication.objects.filter(wave=wave)
    selected = apps.filter(status="selected")
    assert selected.count() == 6
    assert selected.filter(province_code="32").count() == 2
    assert apps.filter(status="not_selected").count() == 5
    skipped = apps.get(participant=people[0])
    assert skipped.status == "ineligible" and skipped.draw_position is None
    assert Participant.objects.get(pk=people[0].pk).status == Participant.Status.INELIGIBLE
    assert set(Participant.objects.filter(applications__status="selected").values_list("status", flat=True)) == {
        "selected"
    }

    # Cards: one per selected participant, each credited from the fund.
    cards = Card.objects.filter(wave=wave)
    assert cards.count() == 6
    for card in cards:
        assert len(card.number) == 16 and card.number.isdigit() and luhn.is_valid(card.number)
        assert Account.objects.get(pk=card.account_id).balance == wave.training_balance
    fund = Account.objects.get(kind=Account.Kind.PROGRAMME_FUND)
    assert fund.balance == -6 * wave.training_balance
    ledger_ok()

    # Everyone who took part, and the skipped one, got the result by email.
    # (in Indonesian, the default language of mail).
    assert len(mail.outbox) == 12
    status_of = {a.participant.user.email: a.status for a in apps.select_related("participant__user")}
    expected = {"selected": "Selamat", "not_selected": "tidak terpilih", "ineligible": "tidak lagi memenuhi syarat"}
    for message in mail.outbox:
        assert message.subject == "Prakerja gelombang 1: hasil Anda"
        assert expected[status_of[message.to[0]]] in message.body

    # Anyone re-running the recorded draw gets the same result...
    assert waves.wave_verify_draw(wave=wave) == []
    order = sorted((lottery.rank(wave.draw_seed, a.pk), a.pk) for a in apps.exclude(draw_position=None))
    recorded = apps.exclude(draw_position=None).order_by("draw_position").values_list("pk", flat=True)
    assert [pk for _r, pk in order] == list(recorded)
    # ...and a tampered result does not pass.
    loser = apps.filter(status="not_selected").first()
    WaveApplication.objects.filter(pk=loser.pk).update(status="selected")
    assert len(waves.wave_verify_draw(wave=wave)) == 1
    WaveApplication.objects.filter(pk=loser.pk).update(status="not_selected")
    # Nor does a changed list of those who took part: the skipped one let in.
    WaveApplication.objects.filter(pk=skipped.pk).update(status="not_selected", draw_position=99)
    problems = waves.wave_verify_draw(wave=wave)
    assert "The recorded list of those who took part, or the quotas, changed after the draw." in problems

    with pytest.raises(ValidationError) as err:
        waves.wave_draw(wave=wave, by=checker)
    assert err.value.messages == ["The selection of this wave has already been run."]


def test_the_same_seed_always_draws_the_same_order():
    candidates = [lottery.Candidate(i, "32" if i % 3 else "35") for i in range(1, 200)]
    first = lottery.draw("abc", candidates, quota=50, province_quotas={"35": 10})
    again = lottery.draw("abc", list(reversed(candidates)), quota=50, province_quotas={"35": 10})
    other = lottery.draw("abd", candidates, quota=50, province_quotas={"35": 10})
    assert first == again
    assert first[0] != other[0]
    assert len(first[1]) == 50
    assert sum(1 for c in candidates if c.application_id in first[1] and c.province_code == "35") == 10


def test_those_not_selected_may_apply_to_the_next_wave(committed):
    first, second = verified_participant(committed), verified_participant(committed)
    wave = make_wave(quota=1)
    for p in (first, second):
        waves.wave_apply(participant=p, wave=wave)
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    loser = Participant.objects.get(pk__in=[first.pk, second.pk], status=Participant.Status.NOT_SELECTED)
    winner = Participant.objects.get(pk__in=[first.pk, second.pk], status=Participant.Status.SELECTED)
    next_wave = make_wave(number=2)
    waves.wave_apply(participant=loser, wave=next_wave)
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=winner, wave=next_wave)
    assert err.value.messages == ["You have already been selected and have a card."]


def test_an_unused_card_is_reminded_then_revoked_and_its_balance_returned(committed, monkeypatch, sms_outbox):
    card = card_holder(committed, balance=1_000_000)
    assert card.purchase_deadline - card.issued_at == datetime.timedelta(days=30)
    real_now = timezone.now

    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    mail.outbox.clear()
    at(card.purchase_deadline - datetime.timedelta(days=8))
    assert committed(card_deadlines) == {"reminded": 0, "revoked": 0}
    at(card.purchase_deadline - datetime.timedelta(days=6, hours=23))
    assert committed(card_deadlines) == {"reminded": 1, "revoked": 0}
    assert committed(card_deadlines) == {"reminded": 0, "revoked": 0}  # once only
    assert len(mail.outbox) == 1 and card.participant.user.email in mail.outbox[0].to
    assert "kartu" in sms_outbox[-1].body.lower()

    at(card.purchase_deadline + datetime.timedelta(minutes=1))
    assert committed(card_deadlines) == {"reminded": 0, "revoked": 1}
    card.refresh_from_db()
    assert card.status == Card.Status.REVOKED
    assert Account.objects.get(pk=card.account_id).balance == 0
    assert Account.objects.get(kind=Account.Kind.PROGRAMME_FUND).balance == 0
    participant = Participant.objects.get(pk=card.participant_id)
    assert participant.status == Participant.Status.REVOKED
    ledger_ok()

    monkeypatch.setattr(timezone, "now", real_now)
    with pytest.raises(ValidationError) as err:
        waves.wave_apply(participant=participant, wave=make_wave(number=9))
    assert err.value.messages == ["Your card was revoked; you cannot join the programme again."]


def test_pmo_runs_the_lottery_from_admin_and_only_a_checker_may(committed, client, django_capture_on_commit_callbacks):
    participant = verified_participant(committed)
    wave = make_wave()
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    url = reverse("admin:enrollment_wave_draw", args=[wave.pk])

    client.force_login(make_staff(roles.PMO_FINANCE_MAKER))
    assert client.post(url).status_code == 403
    client.force_login(make_staff(roles.PMO_FINANCE_CHECKER))
    client.cookies["django_language"] = "en"
    page = client.get(url)
    assert "1 applications take part; the quota is 10." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    wave.refresh_from_db()
    assert wave.status == Wave.Status.DRAWN
    assert Card.objects.filter(participant=participant).exists()
    change = client.get(reverse("admin:enrollment_wave_change", args=[wave.pk]))
    assert wave.draw_seed in change.content.decode()


def test_wave_rules_edited_by_staff_are_recorded_and_fixed_once_approved(committed):
    now = timezone.now()
    wave = Wave.objects.create(
        number=1, opens_at=now - datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(days=7), quota=10
    )
    maker = make_staff(roles.PMO_FINANCE_MAKER)
    wave.training_balance = 3_500_000
    wave.quota = 20
    changed = waves.wave_rules_save(wave=wave, fields=["training_balance", "quota"], by=maker)
    assert changed == {"training_balance": (1_000_000, 3_500_000), "quota": (10, 20)}
    event = wave.events.get(kind="setting")
    assert (event.name, event.actor) == ("wave rules", maker)
    assert event.payload == {
        "before": {"training_balance": 1_000_000, "quota": 10},
        "after": {"training_balance": 3_500_000, "quota": 20},
    }
    waves.wave_open(wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    opened = wave.events.get(kind="status", to_status="open")
    assert opened.payload["rules"]["training_balance"] == 3_500_000

    stale = Wave.objects.get(pk=wave.pk)
    stale.training_balance = 9_000_000
    with pytest.raises(ValidationError) as refused:
        waves.wave_rules_save(wave=stale, fields=["training_balance"], by=maker)
    assert refused.value.code == "approved"

    participant = verified_participant(committed)
    waves.wave_apply(participant=participant, wave=wave)
    close_window(wave)
    committed(waves.wave_draw, wave=wave, by=make_staff(roles.PMO_FINANCE_CHECKER))
    with pytest.raises(ValidationError) as refused:
        waves.wave_rules_save(wave=stale, fields=["training_balance"], by=maker)
    assert refused.value.code == "drawn"
    assert Wave.objects.get(pk=wave.pk).training_balance == 3_500_000
    assert wave.events.filter(kind="setting").count() == 1
