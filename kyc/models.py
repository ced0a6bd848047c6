"""Identity checks (KYC): a participant's KTP photo and selfie, matched by
face; the encodings kept for duplicate-identity search; the population
registry extract the PMO imports."""

import uuid

import numpy as np
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Participant


def _photo_path(instance, filename):
    # No name, NIK or original file name in the path.
    return f"kyc/{uuid.uuid4().hex}"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    PROCESSING = "processing", _("Being checked")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Refused")
    NEEDS_REVIEW = "needs_review", _("Waiting for a reviewer")


# Allowed moves of KycSubmission.status (DESIGN.md "Lifecycles").
SUBMISSION_TRANSITIONS = {
    SubmissionStatus.SUBMITTED: frozenset({SubmissionStatus.PROCESSING}),
    SubmissionStatus.PROCESSING: frozenset(
        {SubmissionStatus.VERIFIED, SubmissionStatus.REJECTED, SubmissionStatus.NEEDS_REVIEW}
    ),
    SubmissionStatus.NEEDS_REVIEW: frozenset({SubmissionStatus.VERIFIED, SubmissionStatus.REJECTED}),
    SubmissionStatus.VERIFIED: frozenset(),
    SubmissionStatus.REJECTED: frozenset(),
}
FINAL_STATUSES = (SubmissionStatus.VERIFIED, SubmissionStatus.REJECTED)


class KycSubmission(models.Model):
    """One attempt of a participant to prove the NIK is theirs."""

    Status = SubmissionStatus

    class Flag(models.TextChoices):
        POSSIBLE_DUPLICATE = "possible_duplicate", _("Same face as another participant")
        SAME_PHOTO = "same_photo", _("Same photo as another participant's")
        SELFIE_IS_KTP_PHOTO = "selfie_is_ktp_photo", _("Selfie is the KTP photo itself")
        BORDERLINE_MATCH = "borderline_match", _("Faces neither clearly match nor clearly differ")
        REGISTRY_NAME_MISMATCH = "registry_name_mismatch", _("Name differs from the population registry")
        REGISTRY_BIRTH_DATE_MISMATCH = "registry_birth_date_mismatch", _("Birth date differs from the registry")
        REGISTRY_GENDER_MISMATCH = "registry_gender_mismatch", _("Gender differs from the population registry")
        REGISTRY_NOT_CHECKED = "registry_not_checked", _("No population registry configured")
        LAST_ATTEMPT = "last_attempt", _("Last attempt: a reviewer decides")
        CHECK_FAILED = "check_failed", _("The automatic check failed")
        NO_LIVENESS = "no_liveness", _("No liveness: a selfie upload instead of the camera check")
        KTP_NIK_MISMATCH = "ktp_nik_mismatch", _("The NIK read off the KTP differs from the NIK typed")
        KTP_NIK_UNREADABLE = "ktp_nik_unreadable", _("The NIK could not be read off the KTP photo")
        KTP_TEXT_UNREADABLE = "ktp_text_unreadable", _("No printed KTP text found beside the portrait")
        KTP_NOT_READ = "ktp_not_read", _("The KTP photo could not be read (OCR failed)")
        PHOTO_TURNED = "photo_turned", _("A photo was sideways or upside down and was turned to find the face")

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="kyc_submissions", verbose_name=_("participant")
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    ktp_photo = models.FileField(_("KTP photo"), upload_to=_photo_path, blank=True)
    selfie = models.FileField(_("selfie"), upload_to=_photo_path, blank=True)
    # The camera check (kyc.liveness): the challenge answered, its frames (a
    # zip of JPEGs, one folder per action) and what was measured on them.
    challenge = models.OneToOneField(
        "LivenessChallenge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kyc_submission",
        verbose_name=_("liveness challenge"),
    )
    liveness_frames = models.FileField(_("camera frames"), upload_to=_photo_path, blank=True)
    liveness = models.JSONField(_("liveness measurements"), default=dict, blank=True)
    ktp_reading = models.JSONField(_("what was read off the KTP"), default=dict, blank=True)
    # False when the refusal was the file's fault (no face in it, not a
    # card): such a submission does not use one of KYC_MAX_ATTEMPTS.
    counted = models.BooleanField(_("counts as an attempt"), default=True)
    # What the check found.
    ktp_faces = models.PositiveSmallIntegerField(_("faces on the KTP photo"), null=True, blank=True)
    selfie_faces = models.PositiveSmallIntegerField(_("faces in the selfie"), null=True, blank=True)
    distance = models.FloatField(_("face distance"), null=True, blank=True)
    selfie_encoding = models.BinaryField(null=True, blank=True, editable=False)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    duplicate_of = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    duplicate_distance = models.FloatField(_("distance to the duplicate"), null=True, blank=True)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)
    # The decision.
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, db_index=True)
    photos_deleted_at = models.DateTimeField(_("photos deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        verbose_name = _("KYC submission")
        verbose_name_plural = _("KYC submissions")
        ordering = ["created_at", "id"]
        permissions = [
            ("review_kycsubmission", _("Can decide KYC cases")),
            ("view_kyc_photos", _("Can see KYC photos")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["participant", "attempt"], name="kyc_attempt_unique"),
            models.CheckConstraint(condition=models.Q(status__in=SubmissionStatus.values), name="kyc_status_valid"),
            models.CheckConstraint(condition=models.Q(attempt__gte=1), name="kyc_attempt_positive"),
        ]

    def __str__(self):
        return f"KYC #{self.pk} ({self.get_status_display()})"

    @property
    def encoding(self) -> np.ndarray | None:
        return None if self.selfie_encoding is None else np.frombuffer(bytes(self.selfie_encoding), dtype=np.float64)

    @property
    def has_photos(self) -> bool:
        return self.photos_deleted_at is None and bool(self.ktp_photo) and bool(self.selfie)

    @property
    def is_live(self) -> bool:
        return self.challenge_id is not None


class LivenessChallenge(models.Model):
    """A one-time challenge for the camera check: the actions to do, in
    order, before the deadline. Used once, by its own participant."""

    class Purpose(models.TextChoices):
        KYC = "kyc", _("identity check")
        ATTENDANCE = "attendance", _("attendance check")

    nonce = models.CharField(max_length=64, unique=True)
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="liveness_challenges", verbose_name=_("participant")
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    actions = models.JSONField(_("actions asked"))
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("answer before"))
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("liveness challenge")
        verbose_name_plural = _("liveness challenges")
        indexes = [models.Index(fields=["participant", "created_at"])]

    def __str__(self):
        return f"challenge {self.pk} ({' '.join(self.actions)})"


class KycPhotoLog(models.Model):
    """Each time staff open someone's KYC photos, and each deletion."""

    class Action(models.TextChoices):
        VIEWED = "viewed", _("Viewed")
        DELETED = "deleted", _("Deleted")

    submission = models.ForeignKey(KycSubmission, on_delete=models.PROTECT, related_name="photo_logs")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    photo = models.CharField(_("photo"), max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("KYC photo access")
        verbose_name_plural = _("KYC photo accesses")

    def __str__(self):
        return f"{self.action} {self.photo} of submission {self.submission_id}"


class FaceTemplate(models.Model):
    """The face encoding of a participant's accepted selfie, kept (after the
    photos are deleted) to find the same face under another NIK."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="face_template")
    submission = models.OneToOneField(KycSubmission, on_delete=models.PROTECT, related_name="+")
    encoding = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("face template")
        verbose_name_plural = _("face templates")

    def __str__(self):
        return f"face of participant {self.participant_id}"


class RegistryImport(models.Model):
    """An extract of the population registry (Dukcapil) imported by the PMO."""

    class Status(models.TextChoices):
        IMPORTING = "importing", _("Importing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    source = models.CharField(_("source"), max_length=200)
    status = models.CharField(_("import status"), max_length=10, choices=Status.choices, default=Status.IMPORTING)
    upload = models.FileField(upload_to="registry-extracts/", blank=True)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    skipped_count = models.PositiveIntegerField(_("rows skipped"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("population registry extract")
        verbose_name_plural = _("population registry extracts")

    def __str__(self):
        return self.source


REGISTRY_IMPORT_TRANSITIONS = {
    RegistryImport.Status.IMPORTING: frozenset({RegistryImport.Status.READY, RegistryImport.Status.FAILED}),
    RegistryImport.Status.READY: frozenset(),
    RegistryImport.Status.FAILED: frozenset(),
}


class RegistryRecord(models.Model):
    """One person in a registry extract, found by the NIK's blind index. The
    newest ready extract that holds a NIK answers for it; an extract still
    importing, or failed, answers for nobody."""

    nik_index = models.CharField(max_length=64, db_index=True)
    full_name = models.CharField(max_length=150)
    birth_date = models.DateField()
    gender = models.CharField(max_length=1)
    registry_import = models.ForeignKey(RegistryImport, on_delete=models.CASCADE, related_name="records")

    class Meta:
        verbose_name = _("registry record")
        verbose_name_plural = _("registry records")
        constraints = [
            models.UniqueConstraint(fields=["registry_import", "nik_index"], name="registry_record_unique"),
        ]

    def __str__(self):
        return f"registry record {self.pk}"


class KycReviewCase(KycSubmission):
    """The review queue: submissions waiting for a reviewer (admin only)."""

    class Meta:
        proxy = True
        verbose_name = _("KYC case to review")
        verbose_name_plural = _("KYC review queue")
