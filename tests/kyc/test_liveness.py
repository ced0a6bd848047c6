"""The camera check on real frames of real people (../shared/liveness):
genuine sequences pass, presentation attacks and replays are refused or
sent to a reviewer. Each sequence's challenge is fixed to the actions it
holds (LIVENESS_FIXED_ACTIONS); grid_swwp2s is kept out of the tests."""

import io
from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFilter

from accounts.models import Participant
from kyc import liveness, samples
from kyc.models import FaceTemplate, KycSubmission, LivenessChallenge
from kyc.services import LiveCapture, attempts_used, kyc_submit
from prakerja.api.errors import error_code
from tests.kyc.conftest import (
    GRID,
    as_upload,
    capture_of,
    card_image,
    face_path,
    frame_upload,
    grid_face,
    grid_ktp,
    photo,
)

pytestmark = pytest.mark.django_db

Status = KycSubmission.Status
Flag = KycSubmission.Flag
PEXELS = samples.GENUINE[2]


@pytest.fixture
def send(committed):
    """Sends photos as the page does; the check runs after commit, as a worker would."""

    def run(participant, ktp, *, live=None, selfie=None):
        submission = committed(kyc_submit, participant=participant, ktp_photo=ktp, selfie=selfie, live=live)
        submission.refresh_from_db()
        return submission

    return run


# The check itself, on the recorded sequences.


@pytest.mark.parametrize("case", samples.GENUINE, ids=lambda c: c.name)
def test_each_genuine_sequence_passes_its_challenge(case):
    result = liveness.analyse(samples.bursts_of(case), list(case.actions))
    assert result.passed, result.as_dict()
    assert [a.action for a in result.actions] == list(case.actions)
    assert all(a.passed for a in result.actions)
    assert result.encoding is not None and result.encoding.shape == (128,)


@pytest.mark.parametrize("case", samples.ATTACKS, ids=lambda c: c.name)
def test_presentation_attacks_and_a_wrong_order_are_refused(case):
    result = liveness.analyse(samples.bursts_of(case), list(case.actions))
    assert not result.passed
    assert result.reason_code == "liveness_blink_missing"
    assert result.encoding is None


def test_a_bent_print_fakes_a_turn_but_cannot_blink():
    bent = next(c for c in samples.ATTACKS if c.name == "bent_print")
    result = liveness.analyse(samples.bursts_of(bent), list(bent.actions))
    blink, turn = result.actions
    assert (blink.action, blink.passed) == ("blink", False)
    assert (turn.action, turn.passed) == ("turn_left", True)  # why every challenge has a blink


@pytest.mark.parametrize("still", samples.STILLS, ids=lambda s: s.split("/")[-1][:14])
def test_a_still_sent_many_times_is_refused_with_or_without_added_noise(still):
    frame = samples.decode(samples.samples_dir() / still)
    repeated = liveness.analyse([[frame] * 6, [frame] * 6], ["blink", "turn_left"])
    assert repeated.reason_code == "liveness_still"
    rng = np.random.default_rng(3)
    noisy = [
        [np.clip(frame.astype(np.int16) + rng.integers(-6, 7, frame.shape), 0, 255).astype(np.uint8) for _ in range(6)]
        for _ in range(2)
    ]
    assert liveness.analyse(noisy, ["blink", "turn_left"]).reason_code == "liveness_blink_missing"


def test_frames_of_two_people_are_refused():
    grid = samples.bursts_of(GRID)
    pexels = samples.bursts_of(PEXELS)
    result = liveness.analyse([grid[0], pexels[1]], ["blink", "blink"])
    assert result.reason_code in ("liveness_not_same_person", "liveness_face_jumped")
    # Same sizes and place, other person: the encodings tell them apart.
    result = liveness.analyse([grid[0], grid[1]], ["blink", "blink"])
    assert result.passed and result.identity_spread < 0.3


def test_every_challenge_has_a_blink_and_two_or_three_actions(settings):
    settings.LIVENESS_FIXED_ACTIONS = []
    drawn = [liveness.new_actions() for _ in range(200)]
    assert all("blink" in a and len(a) in (2, 3) and set(a) <= set(liveness.ACTIONS) for a in drawn)
    assert len({tuple(a) for a in drawn}) > 5  # the order is not predictable


# Through the identity check, as the page sends it.


def test_a_live_capture_with_the_persons_ktp_is_verified(ready_participant, live, send, client):
    participant = ready_participant()
    submission = send(participant, grid_ktp(participant.nik), live=live(participant))
    assert submission.status == Status.VERIFIED, (submission.reason_code, submission.flags)
    assert Flag.NO_LIVENESS not in submission.flags
    assert submission.liveness["passed"] and [a["action"] for a in submission.liveness["actions"]] == [
        "blink",
        "blink",
    ]
    assert submission.ktp_reading["nik_matches"] is True
    assert {"liveness", "faces_ktp", "ocr"} <= set(submission.timings)
    assert FaceTemplate.objects.filter(participant=participant).exists()
    participant.refresh_from_db()
    assert participant.status == Participant.Status.KYC_VERIFIED
    assert submission.challenge.used_at is not None
    # The owner sees a frame as their "selfie".
    client.force_login(participant.user)
    assert client.get(reverse("kyc:photo", args=[submission.pk, "selfie"])).status_code == 200


def test_a_challenge_is_used_once_in_time_by_its_own_participant(ready_participant, live, send):
    participant, other = ready_participant(), ready_participant()
    # Someone else's nonce.
    theirs = live(other)
    with pytest.raises(ValidationError) as refused:
        kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=theirs)
    assert error_code(refused.value) == "challenge_unknown"
    # Too late.
    late = live(participant)
    LivenessChallenge.objects.filter(nonce=late.nonce).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as refused:
        kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=late)
    assert error_code(refused.value) == "challenge_expired"
    assert not KycSubmission.objects.filter(participant=participant).exists()  # nothing half-written

    # Used once (the capture refused: the person may try again)...
    used = live(participant)
    attack = next(c for c in samples.ATTACKS if c.name == "screen_replay_video")
    first = send(participant, grid_ktp(participant.nik), live=LiveCapture(used.nonce, capture_of(attack)))
    assert (first.status, first.reason_code) == (Status.REJECTED, "liveness_blink_missing")
    # ...and its frames replayed with that old nonce are refused at once.
    with pytest.raises(ValidationError) as refused:
        kyc_submit(
            participant=participant, ktp_photo=grid_ktp(participant.nik), live=LiveCapture(used.nonce, capture_of(GRID))
        )
    assert error_code(refused.value) == "challenge_used"
    assert KycSubmission.objects.filter(participant=participant).count() == 1


def test_frames_that_do_not_fit_the_challenge_are_refused_before_anything_is_stored(ready_participant, live):
    participant = ready_participant()
    cases = {
        "capture_incomplete": lambda: capture_of(GRID)[:1],
        "capture_frame_count": lambda: [capture_of(GRID)[0][:2], capture_of(GRID)[1]],
        "frame_not_image": lambda: [
            [*capture_of(GRID)[0][:5], SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>")],
            capture_of(GRID)[1],
        ],
        "frame_too_large": lambda: [
            [*capture_of(GRID)[0][:5], SimpleUploadedFile("x.jpg", b"\xff" * 300_000)],
            capture_of(GRID)[1],
        ],
    }
    for code, bursts in cases.items():
        capture = live(participant, bursts=bursts())
        with pytest.raises(ValidationError) as refused:
            kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=capture)
        assert error_code(refused.value) == code
        assert LivenessChallenge.objects.get(nonce=capture.nonce).used_at is None
    assert not KycSubmission.objects.exists()


def test_a_selfie_uploaded_without_the_camera_goes_to_a_reviewer_marked_no_liveness(ready_participant, send):
    participant = ready_participant()
    submission = send(participant, grid_ktp(participant.nik), selfie=frame_upload(samples.frame_files(GRID.folder)[0]))
    assert submission.status == Status.NEEDS_REVIEW
    assert Flag.NO_LIVENESS in submission.flags
    assert submission.distance <= 0.45  # the faces match: only the missing liveness stops it
    assert not FaceTemplate.objects.exists()


def test_a_selfie_made_by_photographing_the_ktp_portrait_is_never_verified(ready_participant, live, send):
    """The attack that used to pass: the KTP's own portrait, re-photographed."""
    participant = ready_participant()
    card = card_image(face_path("obama.jpg"), nik=participant.nik)
    portrait = card.crop((740, 130, 980, 430)).resize((480, 600)).filter(ImageFilter.GaussianBlur(1.2))
    noisy = np.asarray(portrait).astype(np.int16) + np.random.default_rng(5).integers(-8, 9, (600, 480, 3))
    reshot = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    uploaded = send(participant, as_upload(card), selfie=as_upload(reshot, "selfie.jpg"))
    assert uploaded.status == Status.NEEDS_REVIEW and Flag.NO_LIVENESS in uploaded.flags

    # Held to the camera: the same picture, frame after frame, cannot blink.
    frames = []
    for i in range(12):
        out = io.BytesIO()
        Image.fromarray(np.clip(noisy + i % 3, 0, 255).astype(np.uint8)).resize((384, 480)).save(out, "JPEG")
        frames.append(SimpleUploadedFile(f"f{i}.jpg", out.getvalue()))
    other = ready_participant()
    capture = live(other, bursts=[frames[:6], frames[6:]])
    held = send(other, as_upload(card_image(face_path("obama.jpg"), nik=other.nik)), live=capture)
    assert held.status == Status.REJECTED and held.reason_code.startswith("liveness_")


# The KTP photo.


def test_a_readable_nik_that_differs_from_the_typed_one_goes_to_review(ready_participant, live, send):
    participant = ready_participant()
    other_nik = "3273015708950099" if participant.nik != "3273015708950099" else "3273015708950098"
    submission = send(participant, grid_ktp(other_nik), live=live(participant))
    assert submission.status == Status.NEEDS_REVIEW
    assert Flag.KTP_NIK_MISMATCH in submission.flags
    assert submission.ktp_reading["nik_matches"] is False
    assert participant.nik not in str(submission.ktp_reading)  # kept masked


def test_an_unreadable_nik_is_not_a_refusal_but_a_reviewer_decides(ready_participant, live, send):
    """A finger over the NIK of one's own card, and another person's NIK typed."""
    participant = ready_participant()
    submission = send(participant, grid_ktp(participant.nik, print_nik=False), live=live(participant))
    assert submission.status == Status.NEEDS_REVIEW and submission.distance <= 0.45
    assert Flag.KTP_NIK_UNREADABLE in submission.flags and submission.ktp_reading["nik"] == ""


def test_a_selfie_sent_as_the_ktp_is_refused_without_using_an_attempt(ready_participant, live, send, client):
    participant = ready_participant()
    submission = send(participant, photo("obama.jpg"), live=live(participant))
    assert (submission.status, submission.reason_code, submission.counted) == (Status.REJECTED, "ktp_not_card", False)
    assert attempts_used(participant) == 0
    client.force_login(participant.user)
    page = client.get(reverse("kyc:status")).content.decode()
    assert "tidak terlihat seperti kartu identitas" in page


def test_a_ktp_photo_turned_sideways_without_exif_is_turned_to_find_the_face(ready_participant, live, send):
    participant = ready_participant()
    card = card_image(grid_face(), nik=participant.nik)
    submission = send(participant, as_upload(card.rotate(90, expand=True)), live=live(participant))
    assert submission.status == Status.VERIFIED, (submission.reason_code, submission.flags)
    assert Flag.PHOTO_TURNED in submission.flags and submission.ktp_reading["turns"] in (1, 3)


def test_the_untouched_originals_with_exif_rotation_are_decoded_upright():
    original = samples.samples_dir() / "presentation_attacks_minivision/original_exif_orientation6/a_live_image_T1.jpg"
    pixels = samples.decode(original)
    assert pixels.shape[0] > pixels.shape[1]  # portrait, as the upright copy
    assert len(liveness.locate(pixels)) == 1


def test_no_face_in_the_files_costs_no_attempt(ready_participant, send, settings):
    participant = ready_participant()
    blank = Image.new("RGB", (800, 600), (200, 200, 200))
    for _ in range(settings.KYC_MAX_ATTEMPTS + 1):
        submission = send(participant, as_upload(blank), selfie=as_upload(blank, "s.jpg"))
        assert submission.status == Status.REJECTED and not submission.counted
    assert attempts_used(participant) == 0
    assert Flag.LAST_ATTEMPT not in submission.flags


def test_the_page_gives_the_script_a_challenge_and_refuses_strangers(ready_participant, client, settings):
    settings.LIVENESS_FIXED_ACTIONS = []
    participant = ready_participant()
    client.force_login(participant.user)
    answer = client.post(reverse("kyc:challenge")).json()
    assert "blink" in [a["code"] for a in answer["actions"]]
    assert all(a["text"] for a in answer["actions"]) and answer["frames"] >= 3
    assert LivenessChallenge.objects.get(nonce=answer["nonce"]).participant == participant
    client.logout()
    assert client.post(reverse("kyc:challenge")).status_code in (302, 403, 404)


def test_a_failure_after_the_photos_are_stored_leaves_no_photo_behind(ready_participant, live, monkeypatch, settings):
    import os

    from kyc.services import submission as service

    participant = ready_participant()
    capture = live(participant)

    def database_fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service, "record_created", database_fails)
    kyc_dir = os.path.join(settings.MEDIA_ROOT, "kyc")
    before = set(os.listdir(kyc_dir)) if os.path.isdir(kyc_dir) else set()
    with pytest.raises(RuntimeError):
        kyc_submit(participant=participant, ktp_photo=grid_ktp(participant.nik), live=capture)
    after = set(os.listdir(kyc_dir)) if os.path.isdir(kyc_dir) else set()
    assert after == before
    assert not KycSubmission.objects.exists()
    assert LivenessChallenge.objects.get(nonce=capture.nonce).used_at is None  # rolled back: may be tried again
