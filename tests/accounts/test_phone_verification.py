"""Phone verification by SMS code: expiry, single use, guess limits."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import OneTimeCode, Participant
from accounts.services import otp
from accounts.services.phone import participant_send_phone_code, participant_verify_phone
from tests.factories import make_participant

pytestmark = pytest.mark.django_db


def sent_code(outbox, phone):
    messages = [m for m in outbox if m.to == phone]
    assert messages, f"no SMS to {phone}"
    return re.search(r"\b(\d{6})\b", messages[-1].body).group(1)


def refusal_code(fn, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    return exc.value.error_list[0].code


def later(monkeypatch, seconds):
    real_now = timezone.now()
    monkeypatch.setattr(otp.timezone, "now", lambda: real_now + timedelta(seconds=seconds))


def test_the_right_code_verifies_the_phone_and_completes_the_profile(sms_outbox, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == participant.phone
    code = sent_code(sms_outbox, participant.phone)
    # Only a keyed hash is stored.
    assert code not in OneTimeCode.objects.get().code_hash

    participant = participant_verify_phone(participant=participant, code=code)
    assert participant.phone_verified_at is not None
    assert participant.status == Participant.Status.PROFILE_COMPLETE
    assert list(participant.events.values_list("from_status", "to_status")) == [
        ("", "registered"),
        ("registered", "profile_complete"),
    ]


def test_a_code_works_once(sms_outbox, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    code = sent_code(sms_outbox, participant.phone)
    otp.otp_verify(user=participant.user, phone=participant.phone, purpose=otp.PHONE_VERIFICATION, code=code)
    assert (
        refusal_code(
            otp.otp_verify, user=participant.user, phone=participant.phone, purpose=otp.PHONE_VERIFICATION, code=code
        )
        == "otp_none"
    )


def test_a_wrong_code_is_refused_and_counted(sms_outbox, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    code = sent_code(sms_outbox, participant.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as exc:
        participant_verify_phone(participant=participant, code=wrong)
    assert exc.value.error_list[0].code == "otp_wrong"
    assert "4" in exc.value.messages[0]
    assert OneTimeCode.objects.get().attempts == 1
    assert not Participant.objects.get(pk=participant.pk).phone_verified


def test_guessing_stops_after_five_tries_even_with_the_right_code_last(sms_outbox, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    code = sent_code(sms_outbox, participant.phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert refusal_code(participant_verify_phone, participant=participant, code=wrong) == "otp_wrong"
    assert refusal_code(participant_verify_phone, participant=participant, code=code) == "otp_too_many_attempts"
    assert not Participant.objects.get(pk=participant.pk).phone_verified


def test_an_expired_code_is_refused(sms_outbox, monkeypatch, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    code = sent_code(sms_outbox, participant.phone)
    later(monkeypatch, 5 * 60 + 1)
    assert refusal_code(participant_verify_phone, participant=participant, code=code) == "otp_expired"


def test_a_malformed_code_is_refused_without_using_a_try(sms_outbox, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    for bad in ["", "12", "abcdef", "1234567"]:
        assert refusal_code(participant_verify_phone, participant=participant, code=bad) == "otp_format"
    assert OneTimeCode.objects.get().attempts == 0


def test_a_new_code_replaces_the_old_one(sms_outbox, monkeypatch, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    first = sent_code(sms_outbox, participant.phone)
    later(monkeypatch, 61)
    committed(participant_send_phone_code, participant=participant)
    second = sent_code(sms_outbox, participant.phone)
    if first != second:
        assert refusal_code(participant_verify_phone, participant=participant, code=first) == "otp_wrong"
    participant_verify_phone(participant=participant, code=second)


def test_codes_cannot_be_requested_too_often(sms_outbox, monkeypatch, committed):
    participant = make_participant()
    committed(participant_send_phone_code, participant=participant)
    assert refusal_code(participant_send_phone_code, participant=participant) == "otp_wait"
    for i in range(1, 5):
        later(monkeypatch, 61 * i)
        committed(participant_send_phone_code, participant=participant)
    later(monkeypatch, 61 * 5)
    assert refusal_code(participant_send_phone_code, participant=participant) == "otp_send_limit"
    assert len(sms_outbox) == 5


def test_one_persons_code_does_not_verify_another(sms_outbox, committed):
    alice, bob = make_participant(), make_participant()
    committed(participant_send_phone_code, participant=alice)
    committed(participant_send_phone_code, participant=bob)
    alice_code = sent_code(sms_outbox, alice.phone)
    bob_code = sent_code(sms_outbox, bob.phone)
    if alice_code != bob_code:
        assert refusal_code(participant_verify_phone, participant=bob, code=alice_code) == "otp_wrong"
    participant_verify_phone(participant=bob, code=bob_code)
    assert not Participant.objects.get(pk=alice.pk).phone_verified


@override_settings(LANGUAGE_CODE="id")
def test_the_verification_page_flow(client, sms_outbox, committed):
    participant = make_participant()
    client.force_login(participant.user)
    page = client.get(reverse("accounts:verify_phone")).content.decode()
    assert participant.phone not in page  # shown masked
    committed(client.post, reverse("accounts:verify_phone"), {"action": "send"})
    code = sent_code(sms_outbox, participant.phone)
    response = client.post(
        reverse("accounts:verify_phone"), {"action": "verify", "code": "000000" if code != "000000" else "111111"}
    )
    assert response.status_code == 200
    assert response.context["code_form"].errors["code"]
    response = client.post(reverse("accounts:verify_phone"), {"action": "verify", "code": code})
    assert response.status_code == 302
    assert Participant.objects.get(pk=participant.pk).status == Participant.Status.PROFILE_COMPLETE


def test_an_unverified_number_can_be_corrected_and_a_verified_one_cannot(client, sms_outbox, committed):
    participant = make_participant()
    client.force_login(participant.user)
    response = client.post(reverse("accounts:verify_phone"), {"action": "change", "phone": "0813 9999 0001"})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.phone == "+6281399990001"
    response = client.post(reverse("accounts:verify_phone"), {"action": "change", "phone": "0221234567"})
    assert response.context["phone_form"].errors["phone"]

    committed(client.post, reverse("accounts:verify_phone"), {"action": "send"})
    participant_verify_phone(participant=participant, code=sent_code(sms_outbox, participant.phone))
    response = client.post(reverse("accounts:verify_phone"), {"action": "change", "phone": "0813 9999 0002"})
    assert response.status_code == 200
    participant.refresh_from_db()
    assert participant.phone == "+6281399990001"


def test_asking_too_often_on_the_page_says_to_wait(client, committed, sms_outbox):
    participant = make_participant()
    client.force_login(participant.user)
    committed(client.post, reverse("accounts:verify_phone"), {"action": "send"})
    response = client.post(reverse("accounts:verify_phone"), {"action": "send"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[-1].startswith("Kode baru saja dikirim"), shown
    assert len(sms_outbox) == 1


def test_a_code_sent_to_the_old_number_does_not_verify_a_changed_one(sms_outbox, committed):
    from accounts.services.phone import participant_change_phone

    participant = make_participant()
    stale = Participant.objects.get(pk=participant.pk)  # as a request loaded it
    committed(participant_send_phone_code, participant=participant)
    code = sent_code(sms_outbox, participant.phone)
    participant_change_phone(participant=participant, phone="0813 7777 0001")
    with pytest.raises(ValidationError):
        participant_verify_phone(participant=stale, code=code)
    participant.refresh_from_db()
    assert participant.phone == "+6281377770001" and not participant.phone_verified
