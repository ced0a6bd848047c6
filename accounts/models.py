"""Users, participants and the data registration needs."""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto
from .fields import EncryptedCharField
from .nik import province_choices, province_name, regency_name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def with_email(self, email: str):
        """Users with this address, whatever its case; uses the index on
        LOWER(email) (``email__iexact`` would scan the table)."""
        return self.alias(email_lower=Lower("email")).filter(email_lower=email.lower())

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in: participant, operator, institution or PMO staff.
    The email address is the login."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the user can log into the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email


class FamilyCard(models.Model):
    """A family card (Kartu Keluarga, KK). Registration locks its row to count
    the members safely under concurrency."""

    number = EncryptedCharField(_("KK number"))
    number_index = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("family card (KK)")
        verbose_name_plural = _("family cards (KK)")

    def __str__(self):
        return crypto.mask(self.number)

    @property
    def masked_number(self) -> str:
        return crypto.mask(self.number)


class ParticipantStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    PROFILE_COMPLETE = "profile_complete", _("Profile complete")
    KYC_VERIFIED = "kyc_verified", _("Identity verified")
    ELIGIBLE = "eligible", _("Eligible")
    APPLIED = "applied", _("Applied to a wave")
    SELECTED = "selected", _("Selected")
    NOT_SELECTED = "not_selected", _("Not selected")
    REVOKED = "revoked", _("Revoked")
    INELIGIBLE = "ineligible", _("Not eligible")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Education(models.TextChoices):
    NONE = "none", _("No formal schooling")
    SD = "sd", _("Primary school (SD)")
    SMP = "smp", _("Junior secondary (SMP)")
    SMA = "sma", _("Senior secondary (SMA/SMK)")
    DIPLOMA = "diploma", _("Diploma (D1-D3)")
    BACHELOR = "bachelor", _("Bachelor or D4 (S1/D4)")
    MASTER = "master", _("Master (S2)")
    DOCTORATE = "doctorate", _("Doctorate (S3)")


class Employment(models.TextChoices):
    UNEMPLOYED = "unemployed", _("Not working, looking for work")
    LAID_OFF = "laid_off", _("Laid off (PHK)")
    EMPLOYED = "employed", _("Employed")
    SELF_EMPLOYED = "self_employed", _("Self-employed or micro business")
    STUDENT = "student", _("Finished school, not yet working")


class RegistrationChannel(models.TextChoices):
    ONLINE = "online", _("Online (daring)")
    OFFLINE = "offline", _("Through a labour office (luring)")


class Participant(models.Model):
    """A job seeker registered for the programme (peserta)."""

    Status = ParticipantStatus
    Gender = Gender
    Education = Education
    Employment = Employment
    Channel = RegistrationChannel

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="participant",
        verbose_name=_("user"),
    )
    full_name = models.CharField(_("full name as on the KTP"), max_length=100)
    nik = EncryptedCharField(_("NIK"))
    nik_index = models.CharField(max_length=64, unique=True, editable=False)
    family_card = models.ForeignKey(
        FamilyCard,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("family card (KK)"),
    )
    birth_place = models.CharField(_("place of birth"), max_length=60)
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    # Unique once verified (constraint below): an unverified number may be
    # a typo and must not lock out its real owner.
    phone = models.CharField(_("mobile number"), max_length=16, db_index=True)
    phone_verified_at = models.DateTimeField(_("mobile number verified at"), null=True, blank=True)
    address = models.CharField(_("domicile address"), max_length=255)
    province_code = models.CharField(_("province"), max_length=2, db_index=True)
    regency_code = models.CharField(_("regency or city"), max_length=4, db_index=True)
    education = models.CharField(_("last education"), max_length=16, choices=Education.choices)
    employment_status = models.CharField(_("employment status"), max_length=16, choices=Employment.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED)
    channel = models.CharField(_("registration channel"), max_length=10, choices=Channel.choices)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_participants",
        verbose_name=_("registered by operator"),
    )
    registration_batch = models.ForeignKey(
        "RegistrationBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participants",
        verbose_name=_("CSV batch"),
    )
    registration_batch_line = models.PositiveIntegerField(_("line in the CSV batch"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        permissions = [
            ("view_full_nik", _("Can see full NIK and KK numbers")),
            (
                "register_offline",
                _("Can register participants on their behalf (Dinas)"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ParticipantStatus.values),
                name="participant_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=Gender.values),
                name="participant_gender_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=RegistrationChannel.values),
                name="participant_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="online", registered_by__isnull=True)
                | models.Q(channel="offline", registered_by__isnull=False),
                name="participant_offline_has_operator",
            ),
            models.CheckConstraint(
                condition=models.Q(regency_code__startswith=models.F("province_code")),
                name="participant_regency_in_province",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(phone_verified_at__isnull=False),
                name="participant_verified_phone_unique",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.masked_nik})"

    @property
    def masked_nik(self) -> str:
        return crypto.mask(self.nik)

    @property
    def province_name(self) -> str:
        return province_name(self.province_code)

    @property
    def regency_name(self) -> str:
        return regency_name(self.regency_code)

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None


# Allowed moves of Participant.status (DESIGN.md "Lifecycles").
PARTICIPANT_TRANSITIONS = {
    Participant.Status.REGISTERED: frozenset({Participant.Status.PROFILE_COMPLETE}),
    Participant.Status.PROFILE_COMPLETE: frozenset({Participant.Status.KYC_VERIFIED}),
    Participant.Status.KYC_VERIFIED: frozenset({Participant.Status.ELIGIBLE, Participant.Status.INELIGIBLE}),
    Participant.Status.ELIGIBLE: frozenset({Participant.Status.APPLIED, Participant.Status.INELIGIBLE}),
    Participant.Status.APPLIED: frozenset(
        {
            Participant.Status.SELECTED,
            Participant.Status.NOT_SELECTED,
            Participant.Status.ELIGIBLE,
            Participant.Status.INELIGIBLE,
        }
    ),
    Participant.Status.NOT_SELECTED: frozenset({Participant.Status.APPLIED, Participant.Status.INELIGIBLE}),
    Participant.Status.SELECTED: frozenset({Participant.Status.REVOKED}),
    # Revoked is the blacklist: no way back into the programme.
    Participant.Status.REVOKED: frozenset(),
    # Found on an exclusion list after registering; the list is the PMO's.
    Participant.Status.INELIGIBLE: frozenset(),
}


class DinasOperator(models.Model):
    """Staff of a provincial labour office (Dinas Ketenagakerjaan) who register
    people of their own province on their behalf."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dinas_operator",
        verbose_name=_("user"),
    )
    province_code = models.CharField(_("province"), max_length=2, choices=province_choices)
    office_name = models.CharField(_("office"), max_length=150)

    class Meta:
        verbose_name = _("Dinas operator")
        verbose_name_plural = _("Dinas operators")

    def __str__(self):
        return f"{self.user} ({self.office_name})"

    @property
    def province_name(self) -> str:
        return province_name(self.province_code)


class ExclusionList(models.Model):
    """A PMO list of NIKs that may not join (civil servants, military, police,
    recipients of overlapping aid). Holds keyed hashes only, never NIKs."""

    class Kind(models.TextChoices):
        CIVIL_SERVANT = "civil_servant", _("Civil servants (ASN)")
        MILITARY = "military", _("Military (TNI)")
        POLICE = "police", _("Police (Polri)")
        OVERLAPPING_AID = "overlapping_aid", _("Recipients of overlapping aid")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(
        _("source"),
        max_length=200,
        help_text=_("Where the list came from, e.g. BKN 2026-10."),
    )

    class Status(models.TextChoices):
        IMPORTING = "importing", _("Importing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("import status"), max_length=10, choices=Status.choices, default=Status.IMPORTING)
    # Only a ready and active list refuses registrations.
    is_active = models.BooleanField(_("active"), default=True)
    # The uploaded file holds NIKs in clear: deleted once imported.
    upload = models.FileField(upload_to="exclusion-lists/", blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    entry_count = models.PositiveIntegerField(_("entries"), default=0, editable=False)
    skipped_count = models.PositiveIntegerField(_("rows skipped"), default=0, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exclusion list")
        verbose_name_plural = _("exclusion lists")
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.source}"


IMPORT_TRANSITIONS = {
    ExclusionList.Status.IMPORTING: frozenset({ExclusionList.Status.READY, ExclusionList.Status.FAILED}),
    ExclusionList.Status.READY: frozenset(),
    ExclusionList.Status.FAILED: frozenset(),
}


class ExclusionEntry(models.Model):
    exclusion_list = models.ForeignKey(ExclusionList, on_delete=models.CASCADE, related_name="entries")
    nik_index = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exclusion_list", "nik_index"], name="exclusion_entry_unique"),
        ]

    def __str__(self):
        return f"entry of {self.exclusion_list_id}"


class OneTimeCode(models.Model):
    """A code sent by SMS to prove a phone is in the user's hands. Only its
    keyed hash is stored; it expires, is single use and allows few guesses."""

    class Purpose(models.TextChoices):
        PHONE_VERIFICATION = "phone_verification", _("Mobile number verification")
        CHECKOUT = "checkout", _("Confirming a purchase")
        INCENTIVE_ACCOUNT = "incentive_account", _("Confirming the account for incentives")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="one_time_codes",
    )
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    phone = models.CharField(max_length=16)
    # What the code confirms, e.g. "course:12": a code sent to buy one course
    # cannot buy another.
    subject = models.CharField(max_length=40, blank=True)
    code_hash = models.CharField(max_length=100)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "purpose", "-created_at"],
                name="otp_user_purpose_recent",
            )
        ]

    def __str__(self):
        return f"{self.purpose} code for user {self.user_id}"


class RegistrationBatch(models.Model):
    """A CSV of people a Dinas operator registers at once (pendaftaran luring)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registration_batches",
        verbose_name=_("operator"),
    )
    province_code = models.CharField(_("province"), max_length=2)
    original_name = models.CharField(_("file name"), max_length=255)
    # The uploaded file holds NIKs in clear: deleted once the batch is finished.
    source = models.FileField(upload_to="registration-batches/source/", blank=True)
    result = models.FileField(upload_to="registration-batches/result/", blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_registered = models.PositiveIntegerField(_("registered"), default=0)
    rows_refused = models.PositiveIntegerField(_("refused"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    language = models.CharField(max_length=8, default="id")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("registration batch")
        verbose_name_plural = _("registration batches")

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"


_B = RegistrationBatch.Status
REGISTRATION_BATCH_TRANSITIONS = {
    _B.QUEUED: frozenset({_B.PROCESSING}),
    _B.PROCESSING: frozenset({_B.DONE, _B.FAILED}),
    _B.DONE: frozenset(),
    _B.FAILED: frozenset(),
}


class RegistrationBatchChunk(models.Model):
    """A slice of a registration batch, registered by one task: the bulk
    workers take a batch's chunks side by side. Its rows' results wait here
    until the last chunk ends, when they are written, in line order, into
    the batch's result file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(RegistrationBatch, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    first_line = models.PositiveIntegerField()
    last_line = models.PositiveIntegerField()
    # The chunk's rows as uploaded, NIKs in clear: deleted with the batch's.
    source = models.FileField(upload_to="registration-batches/source/", blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    rows_registered = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    # [[line, masked NIK, name, registered?, reason], ...] in line order.
    results = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="registration_chunk_unique")]

    def __str__(self):
        return f"{self.batch_id}/{self.number}"


_C = RegistrationBatchChunk.Status
REGISTRATION_CHUNK_TRANSITIONS = {
    _C.QUEUED: frozenset({_C.PROCESSING}),
    _C.PROCESSING: frozenset({_C.DONE, _C.FAILED}),
    _C.DONE: frozenset(),
    _C.FAILED: frozenset(),
}


class IdentityAccessLog(models.Model):
    """Each time staff see someone's identity data in full."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff")
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant")
    )
    what = models.CharField(_("what was seen"), max_length=50)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("identity data access")
        verbose_name_plural = _("identity data accesses")

    def __str__(self):
        return f"{self.staff_id} saw {self.what} of participant {self.participant_id}"
