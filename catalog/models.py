"""The training catalog: digital platform partners, training institutions,
their courses and the two-stage curation every course version goes through.

A Course is the listing; its content lives in CourseRevisions. The revision
on sale is ``Course.published_revision``; editing a published course makes a
new draft revision that is curated again while the published one stays on
sale.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.nik import province_choices, province_name
from payments.channels import PayoutChannel

# The highest commission a platform may take (Permenko 11/2020).
MAX_COMMISSION_RATE = Decimal("15")


class Platform(models.Model):
    """A digital platform partner (mitra platform digital), e.g. Sisnaker."""

    class PayoutRoute(models.TextChoices):
        VIA_PLATFORM = "via_platform", _("To the platform's settlement account, which forwards it")
        DIRECT = "direct", _("Straight to the institution")

    name = models.CharField(_("name"), max_length=100, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # Direct until a PayeeChange says otherwise: the money then goes to each
    # institution's own approved account.
    payout_route = models.CharField(
        _("payout route"), max_length=16, choices=PayoutRoute.choices, default=PayoutRoute.DIRECT
    )
    settlement_bank = models.CharField(_("settlement bank"), max_length=50, blank=True, choices=PayoutChannel.choices)
    settlement_account_number = models.CharField(_("settlement account number"), max_length=30, blank=True)
    settlement_account_holder = models.CharField(_("settlement account holder"), max_length=100, blank=True)
    # Its agreement with the institutions (Permenko 11/2020: at most 15%).
    # A figure only: the whole course fee goes to the institution here, and
    # each sale records what the commission on it is.
    commission_rate = models.DecimalField(
        _("commission rate (percent of the course fee)"),
        max_digits=4,
        decimal_places=2,
        default=0,
        db_default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_COMMISSION_RATE)],
        help_text=_("As agreed with its institutions; at most 15%."),
    )
    nib = models.CharField(
        _("business registration number (NIB)"),
        max_length=13,
        blank=True,
        validators=[RegexValidator(r"^\d{13}$", _("An NIB has 13 digits."))],
        help_text=_("The company's NIB (OSS): an institution owned by this company is affiliated with the platform."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="platforms", blank=True, verbose_name=_("staff users")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("digital platform partner")
        verbose_name_plural = _("digital platform partners")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0, commission_rate__lte=MAX_COMMISSION_RATE),
                name="platform_commission_at_most_15",
            ),
            models.CheckConstraint(
                condition=models.Q(payout_route="direct")
                | (
                    ~models.Q(settlement_bank="")
                    & ~models.Q(settlement_account_number="")
                    & ~models.Q(settlement_account_holder="")
                ),
                name="platform_forwarding_needs_account",
            ),
        ]

    def __str__(self):
        return self.name


class Institution(models.Model):
    """A training institution (lembaga pelatihan)."""

    class Kind(models.TextChoices):
        BLK_KOMUNITAS = "blk_komunitas", _("BLK Komunitas")
        BLK_PEMERINTAH = "blk_pemerintah", _("BLK Pemerintah")
        BLK_LUAR_NEGERI = "blk_luar_negeri", _("BLK Luar Negeri")
        LPK_SWASTA = "lpk_swasta", _("LPK swasta (private)")

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    accreditation_number = models.CharField(_("LA-LPK accreditation number"), max_length=50, blank=True)
    accreditation_valid_until = models.DateField(_("accreditation valid until"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255)
    province_code = models.CharField(_("province"), max_length=2, choices=province_choices, db_index=True)
    # Set and changed only by an approved PayeeChange; blank until then (the
    # institution's enrolments stay out of payout batches without a bank).
    bank_name = models.CharField(_("bank"), max_length=50, choices=PayoutChannel.choices, blank=True)
    bank_account_number = models.CharField(_("account number"), max_length=30, blank=True)
    bank_account_holder = models.CharField(_("account holder"), max_length=100, blank=True)
    nib = models.CharField(
        _("business registration number (NIB)"),
        max_length=13,
        blank=True,
        validators=[RegexValidator(r"^\d{13}$", _("An NIB has 13 digits."))],
    )
    platforms = models.ManyToManyField(Platform, related_name="institutions", verbose_name=_("sells through"))
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="institutions", blank=True, verbose_name=_("staff users")
    )
    is_suspended = models.BooleanField(_("suspended"), default=False)
    suspended_reason = models.CharField(_("suspension reason"), max_length=500, blank=True)
    suspension_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    suspension_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("training institution")
        verbose_name_plural = _("training institutions")

    def __str__(self):
        return self.name

    @property
    def province_name(self) -> str:
        return province_name(self.province_code)

    def accreditation_valid(self, on=None) -> bool:
        on = on or timezone.localdate()
        return bool(self.accreditation_number) and bool(
            self.accreditation_valid_until and self.accreditation_valid_until >= on
        )


class Affiliation(models.Model):
    """An owner, officer or affiliated company that an institution or a
    platform declares. A platform may not sell the course of an institution
    it is affiliated with: one that shares a declared party with it, or that
    the platform's own company owns (issue 15, the audit's conflict of
    interest). A person is kept only as the keyed hash of their NIK and its
    last digits."""

    class Relation(models.TextChoices):
        OWNER = "owner", _("Owner or shareholder")
        OFFICER = "officer", _("Director or commissioner")
        AFFILIATE = "affiliate", _("Affiliated company (parent, subsidiary, sister)")

    class PartyKind(models.TextChoices):
        PERSON = "person", _("Person (NIK)")
        COMPANY = "company", _("Company (NIB)")

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, null=True, blank=True, related_name="affiliations"
    )
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, null=True, blank=True, related_name="affiliations")
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    party_kind = models.CharField(_("person or company"), max_length=8, choices=PartyKind.choices)
    name = models.CharField(_("name"), max_length=150)
    party_key = models.CharField(max_length=80, db_index=True, editable=False)
    party_masked = models.CharField(_("NIK or NIB"), max_length=20, editable=False)
    share_percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("declared by")
    )
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["declared_at", "pk"]
        verbose_name = _("declared owner or affiliate")
        verbose_name_plural = _("declared owners and affiliates")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(institution__isnull=True, platform__isnull=False)
                | models.Q(institution__isnull=False, platform__isnull=True),
                name="affiliation_one_declarer",
            ),
            models.UniqueConstraint(
                fields=["institution", "party_key"],
                condition=models.Q(withdrawn_at__isnull=True, institution__isnull=False),
                name="affiliation_once_per_institution",
            ),
            models.UniqueConstraint(
                fields=["platform", "party_key"],
                condition=models.Q(withdrawn_at__isnull=True, platform__isnull=False),
                name="affiliation_once_per_platform",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_relation_display()})"


# Where each payee's money goes: changed only by an approved PayeeChange.
INSTITUTION_PAYEE_FIELDS = ("bank_name", "bank_account_number", "bank_account_holder")
PLATFORM_PAYEE_FIELDS = ("payout_route", "settlement_bank", "settlement_account_number", "settlement_account_holder")


class PayeeChange(models.Model):
    """A request to change where an institution's or a platform's money goes
    (its bank account, or its payout route and settlement account). A PMO
    finance maker asks; another person with the checker's role approves,
    and only then the payee's details change. Until then the old details are
    paid to and the request shows as pending on the payee's page."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved and in effect")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payee_changes",
        verbose_name=_("institution"),
    )
    platform = models.ForeignKey(
        Platform,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payee_changes",
        verbose_name=_("platform"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    before = models.JSONField(_("details before"), default=dict)
    after = models.JSONField(_("details asked for"), default=dict)
    note = models.CharField(_("why (from the request)"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason of the decision"), max_length=500, blank=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("change of bank details")
        verbose_name_plural = _("changes of bank details")
        permissions = [("approve_payeechange", "Can approve a change of bank details or payout route")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(institution__isnull=True, platform__isnull=False)
                | models.Q(institution__isnull=False, platform__isnull=True),
                name="payee_change_one_payee",
            ),
            # One open request per payee: a second would race the first.
            models.UniqueConstraint(
                fields=["institution"], condition=models.Q(status="pending"), name="one_pending_change_per_institution"
            ),
            models.UniqueConstraint(
                fields=["platform"], condition=models.Q(status="pending"), name="one_pending_change_per_platform"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_by__isnull=False),
                name="payee_change_decided_by_someone",
            ),
            # Nobody decides their own request; withdrawing one's own is fine.
            models.CheckConstraint(
                condition=models.Q(status="withdrawn") | ~models.Q(decided_by=models.F("requested_by")),
                name="payee_change_four_eyes",
            ),
        ]

    def __str__(self):
        return _("Bank details of %(payee)s") % {"payee": self.payee}

    @property
    def payee(self):
        return self.institution or self.platform


PAYEE_CHANGE_TRANSITIONS = {
    PayeeChange.Status.PENDING: frozenset(
        {PayeeChange.Status.APPROVED, PayeeChange.Status.REJECTED, PayeeChange.Status.WITHDRAWN}
    ),
    PayeeChange.Status.APPROVED: frozenset(),
    PayeeChange.Status.REJECTED: frozenset(),
    PayeeChange.Status.WITHDRAWN: frozenset(),
}


class Category(models.TextChoices):
    DIGITAL = "digital", _("Digital skills")
    LANGUAGE = "language", _("Languages")
    FOOD = "food", _("Food and beverage")
    BUSINESS = "business", _("Business and sales")
    TRADE = "trade", _("Trades and technical")
    HOSPITALITY = "hospitality", _("Hospitality and tourism")
    AGRICULTURE = "agriculture", _("Agriculture and fisheries")
    CREATIVE = "creative", _("Creative and design")
    CARE = "care", _("Health and care")


class DeliveryMode(models.TextChoices):
    SELF_PACED = "self_paced", _("Self-paced online")
    WEBINAR = "webinar", _("Live webinar")
    OFFLINE = "offline", _("Offline (in person)")


class Course(models.Model):
    """A course an institution sells through a platform."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="courses", verbose_name=_("institution")
    )
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="courses", verbose_name=_("platform"))
    published_revision = models.OneToOneField(
        "CourseRevision", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    published_at = models.DateTimeField(_("first published"), null=True, blank=True, db_index=True)
    # The published version's start, for scheduled courses: on sale until
    # then. Kept here so the catalog filters without joining the version.
    sale_ends_at = models.DateTimeField(_("on sale until"), null=True, blank=True, editable=False)
    is_suspended = models.BooleanField(_("suspended by the PMO"), default=False)
    suspended_reason = models.CharField(_("suspension reason"), max_length=500, blank=True)
    # Participants' reviews, kept as a sum and a count so the catalog sorts
    # on the average without joining the reviews.
    rating_sum = models.PositiveIntegerField(default=0, editable=False)
    rating_count = models.PositiveIntegerField(_("reviews"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        permissions = [("suspend_course", _("Can suspend published courses"))]

    def __str__(self):
        revision = self.published_revision or self.revisions.order_by("-number").first()
        return revision.title if revision else f"course {self.pk}"

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None


class RevisionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for curation stage 1")
    STAGE1_APPROVED = "stage1_approved", _("Waiting for curation stage 2")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Replaced by a newer version")


# Allowed moves of CourseRevision.status (DESIGN.md "Lifecycles"). A
# rejection at either stage sends the revision back to draft.
REVISION_TRANSITIONS = {
    RevisionStatus.DRAFT: frozenset({RevisionStatus.SUBMITTED}),
    RevisionStatus.SUBMITTED: frozenset({RevisionStatus.STAGE1_APPROVED, RevisionStatus.DRAFT}),
    RevisionStatus.STAGE1_APPROVED: frozenset({RevisionStatus.PUBLISHED, RevisionStatus.DRAFT}),
    RevisionStatus.PUBLISHED: frozenset({RevisionStatus.SUPERSEDED}),
    RevisionStatus.SUPERSEDED: frozenset(),
}


# The fields that make up a version's content (copied into a new version).
CONTENT_FIELDS = (
    "title",
    "summary",
    "description",
    "learning_outcomes",
    "category",
    "delivery_mode",
    "duration_hours",
    "price",
    "starts_at",
    "ends_at",
    "capacity",
)


class CourseRevision(models.Model):
    """One version of a course's content, curated as a whole."""

    Status = RevisionStatus

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=RevisionStatus.choices, default=RevisionStatus.DRAFT)
    title = models.CharField(_("title"), max_length=150)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.CharField(_("description"), max_length=5000)
    learning_outcomes = models.CharField(_("learning outcomes"), max_length=2000)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    delivery_mode = models.CharField(_("delivery mode"), max_length=12, choices=DeliveryMode.choices)
    duration_hours = models.PositiveSmallIntegerField(_("duration (hours)"))
    price = models.PositiveIntegerField(_("price (Rp)"))
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    # Drafted by institution staff on the pages, or by the platform selling
    # it through its API client (exactly one of the two).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_via = models.ForeignKey(
        "ApiClient", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("sent by client")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    stage1_at = models.DateTimeField(null=True, blank=True, db_index=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["course_id", "-number"]
        verbose_name = _("course version")
        verbose_name_plural = _("course versions")
        permissions = [
            ("curate_stage1", _("Can curate courses, stage 1 (Ditjen Binalattas)")),
            ("curate_stage2", _("Can curate courses, stage 2 (PMO)")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="revision_number_unique"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="revision_price_positive"),
            models.CheckConstraint(condition=models.Q(duration_hours__gt=0), name="revision_duration_positive"),
            models.CheckConstraint(
                condition=models.Q(created_by__isnull=True, created_via__isnull=False)
                | models.Q(created_by__isnull=False, created_via__isnull=True),
                name="revision_drafted_by_one",
            ),
            models.CheckConstraint(
                condition=models.Q(delivery_mode="self_paced")
                | models.Q(starts_at__isnull=False, ends_at__isnull=False, ends_at__gt=models.F("starts_at")),
                name="revision_scheduled_modes_have_schedule",
            ),
            # One version in curation or in draft at a time per course.
            models.UniqueConstraint(
                fields=["course"],
                condition=models.Q(status__in=["draft", "submitted", "stage1_approved"]),
                name="revision_one_open_per_course",
            ),
        ]

    def __str__(self):
        return f"{self.title} (v{self.number})"

    @property
    def is_editable(self) -> bool:
        return self.status == RevisionStatus.DRAFT


class CourseSession(models.Model):
    """A session of a course version: a webinar at a set time or a
    self-paced module (sequence 1-10), or the post-test (sequence 999, as
    the programme's interface numbers it). Before each, the participant's
    face is checked (enrollment.AttendanceCheck). Part of the version's
    content: set by the institution, curated with it."""

    class Kind(models.TextChoices):
        WEBINAR = "webinar", _("Webinar")
        SELF_PACED = "self_paced", _("Self-paced module")
        POST_TEST = "post_test", _("Post-test")

    POST_TEST_SEQUENCE = 999
    MAX_SESSIONS = 10

    revision = models.ForeignKey(CourseRevision, on_delete=models.CASCADE, related_name="sessions")
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=150)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)

    class Meta:
        ordering = ["revision_id", "sequence"]
        verbose_name = _("course session")
        verbose_name_plural = _("course sessions")
        constraints = [
            models.UniqueConstraint(fields=["revision", "sequence"], name="session_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1, sequence__lte=10, kind__in=["webinar", "self_paced"])
                | models.Q(sequence=999, kind="post_test"),
                name="session_sequence_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="webinar")
                | models.Q(starts_at__isnull=False, ends_at__isnull=False, ends_at__gt=models.F("starts_at")),
                name="session_webinar_has_times",
            ),
        ]

    def __str__(self):
        return f"{self.sequence}. {self.title}"


class CurationDecision(models.Model):
    """A curator's decision on a revision at one stage."""

    class Stage(models.IntegerChoices):
        BINALATTAS = 1, _("Stage 1: Ditjen Binalattas")
        PMO = 2, _("Stage 2: PMO")

    revision = models.ForeignKey(CourseRevision, on_delete=models.CASCADE, related_name="decisions")
    stage = models.PositiveSmallIntegerField(_("stage"), choices=Stage.choices)
    approved = models.BooleanField(_("approved"))
    checklist = models.JSONField(_("criteria answered"), default=dict)
    reason = models.CharField(_("reason"), max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("curation decision")
        verbose_name_plural = _("curation decisions")

    def __str__(self):
        return f"stage {self.stage}: {'approved' if self.approved else 'rejected'}"


class Stage1Queue(CourseRevision):
    class Meta:
        proxy = True
        verbose_name = _("course to curate (stage 1)")
        verbose_name_plural = _("curation queue, stage 1 (Binalattas)")


class Stage2Queue(CourseRevision):
    class Meta:
        proxy = True
        verbose_name = _("course to curate (stage 2)")
        verbose_name_plural = _("curation queue, stage 2 (PMO)")


class ApiClient(models.Model):
    """A platform's or an institution's credentials for the partner API
    (/api/v1/): a client code, and signing keys kept encrypted (the server
    needs each key itself to check a request's HMAC)."""

    code = models.CharField(_("client code"), max_length=40, unique=True)
    platform = models.ForeignKey(
        Platform,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("platform"),
    )
    institution = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_clients",
        verbose_name=_("institution"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(institution__isnull=True, platform__isnull=False)
                | models.Q(institution__isnull=False, platform__isnull=True),
                name="api_client_one_partner",
            ),
        ]

    def __str__(self):
        return f"{self.code} ({self.platform or self.institution})"

    @property
    def partner(self):
        return self.platform or self.institution


class ApiKey(models.Model):
    """One signing key of a client. A rotated key stays valid until
    ``valid_until`` (the overlap); a revoked one at once stops."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="keys", verbose_name=_("client"))
    secret_encrypted = models.CharField(max_length=300, editable=False)
    hint = models.CharField(_("key ends with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self):
        return f"…{self.hint}"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.valid_until is None or now < self.valid_until)


class IdempotentRequest(models.Model):
    """A partner's POST under an ``Idempotency-Key`` (Stripe's rules): the
    first request's response, returned again for the same key and body,
    for IDEMPOTENCY_TTL (prakerja.api.idempotency)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"))
    key = models.CharField(_("idempotency key"), max_length=100)
    # SHA-256 of the method, the path and the request's content.
    fingerprint = models.CharField(max_length=64)
    # Empty while the first request runs.
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # The body as JSON text: jsonb refuses a \u0000 a client may have sent
    # (and an error may quote back).
    response = models.TextField(_("response"), blank=True)
    started_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_once_per_client")]

    def __str__(self):
        return f"{self.client_id}:{self.key}"
