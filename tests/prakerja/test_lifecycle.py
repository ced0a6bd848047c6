"""The lifecycle kernel: every move is checked against its table, saved and
recorded once in the one audit trail, with side effects only after commit;
an illegal move changes and records nothing. Admin shows each object's
history from that trail."""

import pytest
from django.urls import reverse

from accounts import roles
from accounts.models import PARTICIPANT_TRANSITIONS, Participant
from audit.models import AuditEvent
from prakerja.errors import IllegalTransition
from prakerja.lifecycle import record_change, transition, transition_many
from tests.factories import make_participant, make_staff

pytestmark = pytest.mark.django_db

P = Participant.Status


def test_a_move_is_saved_recorded_and_its_side_effect_waits_for_the_commit(django_capture_on_commit_callbacks):
    participant = make_participant()
    staff = make_staff(roles.PMO_KYC_REVIEWER)
    done = []
    with django_capture_on_commit_callbacks() as deferred:
        transition(
            participant,
            P.PROFILE_COMPLETE,
            table=PARTICIPANT_TRANSITIONS,
            by=staff,
            reason="phone checked",
            after_commit=lambda: done.append(True),
        )
        assert done == []
    for callback in deferred:
        callback()
    assert done == [True]
    assert Participant.objects.get(pk=participant.pk).status == P.PROFILE_COMPLETE
    moves = [(e.from_status, e.to_status, e.actor, e.reason) for e in participant.events.all()]
    assert moves == [
        ("", P.REGISTERED, participant.user, "registered online"),
        (P.REGISTERED, P.PROFILE_COMPLETE, staff, "phone checked"),
    ]


def test_an_illegal_move_changes_and_records_nothing_even_from_a_stale_copy():
    participant = make_participant()
    stale = Participant.objects.get(pk=participant.pk)
    transition(participant, P.PROFILE_COMPLETE, table=PARTICIPANT_TRANSITIONS)
    # The stale copy still says "registered": the kernel reads the locked row.
    with pytest.raises(IllegalTransition) as refused:
        transition(stale, P.PROFILE_COMPLETE, table=PARTICIPANT_TRANSITIONS)
    assert refused.value.code == "illegal_transition"
    assert "profil lengkap" in refused.value.message.lower() or "profile complete" in refused.value.message.lower()
    assert participant.events.count() == 2
    with pytest.raises(IllegalTransition):
        transition(participant, P.SELECTED, table=PARTICIPANT_TRANSITIONS)
    assert Participant.objects.get(pk=participant.pk).status == P.PROFILE_COMPLETE
    assert participant.events.count() == 2


def test_a_bulk_move_checks_the_table_once_and_moves_only_rows_in_the_source_status():
    waiting, other = make_participant(), make_participant()
    transition(other, P.PROFILE_COMPLETE, table=PARTICIPANT_TRANSITIONS)
    moved = transition_many(
        Participant,
        [waiting.pk, other.pk],
        from_status=P.REGISTERED,
        to=P.PROFILE_COMPLETE,
        table=PARTICIPANT_TRANSITIONS,
    )
    assert moved == [waiting.pk]
    assert waiting.events.filter(to_status=P.PROFILE_COMPLETE).count() == 1
    assert other.events.filter(to_status=P.PROFILE_COMPLETE).count() == 1
    with pytest.raises(IllegalTransition):
        transition_many(
            Participant, [waiting.pk], from_status=P.REGISTERED, to=P.SELECTED, table=PARTICIPANT_TRANSITIONS
        )


def test_a_settings_change_is_recorded_with_before_and_after_and_admin_shows_the_history(client):
    participant = make_participant()
    staff = make_staff(roles.PMO_KYC_REVIEWER)
    record_change(participant, "phone", by=staff, before={"phone": "1"}, after={"phone": "2"}, reason="typo")
    event = AuditEvent.objects.get(kind="setting")
    assert (event.name, event.payload, event.actor) == (
        "phone",
        {"before": {"phone": "1"}, "after": {"phone": "2"}},
        staff,
    )

    client.force_login(staff)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:accounts_participant_change", args=[participant.pk])).content.decode()
    assert "History" in page and "registered online" in page and "typo" in page


# Status fields that are not lifecycles of the programme: a face check's
# result object before it is applied, the ledger's own transfer states
# (payments.services guards them) and the notification outbox.
_NOT_LIFECYCLES = {
    ("kyc/services/check.py", "result.status"),
    ("payments/services.py", "locked_transfer.status"),
    ("notifications/services.py", "message.status"),
}
# The lottery's bulk moves of a wave's applications (up to 800,000 rows):
# checked against their table once, recorded by each participant's own move
# and by the wave's draw event, which counts them.
# And the KYC benchmark, which skips the SMS step inside a transaction it
# rolls back.
_BULK_WITHOUT_EVENTS = {
    ("enrollment/services/waves.py", "WaveApplication.objects.filter("),
    ("kyc/management/commands/kyc_bench.py", "Participant.objects.filter(pk=participant.pk)"),
}


def test_no_code_moves_a_status_except_through_the_lifecycle_kernel():
    """Every status move of a lifecycle goes through prakerja.lifecycle
    (record_move on a locked row, transition, transition_many), so each is
    checked against its table and recorded: no other code assigns a status
    or sets one in a bulk update."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assign = re.compile(r"""\b([\w.]+\.status)\s*=(?!=)\s*+(?!['"{])""")  # SQL text aside
    bulk = re.compile(r"^.*\.update\(\s*(?:[^()]|\([^()]*\))*?(?<![\w.])status\s*=(?!=)", re.MULTILINE)
    found = []
    for app in (
        "accounts",
        "audit",
        "catalog",
        "enrollment",
        "kyc",
        "notifications",
        "payments",
        "payouts",
        "prakerja",
    ):
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if "/migrations/" in relative or relative == "prakerja/lifecycle.py":
                continue
            text = path.read_text()
            for number, line in enumerate(text.splitlines(), start=1):
                for name in assign.findall(line.split("#", 1)[0]):
                    if (relative, name) not in _NOT_LIFECYCLES:
                        found.append(f"{relative}:{number}: {line.strip()}")
            for match in bulk.finditer(text):
                statement = match.group(0)
                if not any(relative == f and snippet in statement for f, snippet in _BULK_WITHOUT_EVENTS):
                    found.append(f"{relative}: {statement.strip()}")
    assert found == []
