"""Waves (gelombang), cards and purchases (DESIGN.md "Lifecycles",
"Programme rules" and "Money").

A verified participant applies to a wave; a lottery selects within the quota;
the selected get a card whose training balance lives in the ledger; a
purchase is an Enrollment that the PMO authorises by holding its price.
"""

import datetime
import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import ExclusionList
from accounts.nik import province_choices
from prakerja.inputs import check_moment

# The least and most each rule of a wave may be: a typo of one zero in a
# balance of 800,000 cards is 7 trillion rupiah. The same bounds are checked
# constraints in the database.
RULE_BOUNDS = {
    "quota": (1, 5_000_000),
    "training_balance": (100_000, 10_000_000),
    "purchase_deadline_days": (1, 180),
    "reminder_days_before": (0, 60),
    "voucher_valid_days": (1, 90),
    "incentive_monthly_amount": (0, 2_000_000),
    "incentive_months": (0, 12),
    "survey_incentive_amount": (0, 500_000),
    "survey_count": (0, 10),
    "max_monthly_wage": (0, 100_000_000),
}
LONGEST_WINDOW_DAYS = 366
# Why an application was found ineligible: an exclusion list's kind, or a
# finding of the integrity screening.
INELIGIBLE_REASONS = [
    *ExclusionList.Kind.choices,
    ("wage", _("Wage above the wave's limit")),
    ("pupil", _("Still a school pupil")),
]


def _bounded(name: str) -> list:
    low, high = RULE_BOUNDS[name]
    return [MinValueValidator(low), MaxValueValidator(high)]


class Wave(models.Model):
    """A selection wave (gelombang) and the programme rules that apply to it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        DRAWN = "drawn", _("Selection done")

    number = models.PositiveIntegerField(_("wave number"), unique=True, validators=[MaxValueValidator(100_000)])
    opens_at = models.DateTimeField(_("registration opens"), validators=[check_moment])
    closes_at = models.DateTimeField(_("registration closes"), validators=[check_moment])
    quota = models.PositiveIntegerField(_("quota (all provinces)"), validators=_bounded("quota"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    # Programme rules of this wave (defaults from DESIGN.md), each within the
    # bounds of RULE_BOUNDS, here and in the database. A second finance
    # officer approves them by opening the wave; they are fixed from then on.
    training_balance = models.PositiveIntegerField(
        _("training balance (Rp)"), default=1_000_000, validators=_bounded("training_balance")
    )
    purchase_deadline_days = models.PositiveSmallIntegerField(
        _("days to buy the first course"), default=30, validators=_bounded("purchase_deadline_days")
    )
    reminder_days_before = models.PositiveSmallIntegerField(
        _("reminder, days before the deadline"), default=7, validators=_bounded("reminder_days_before")
    )
    voucher_valid_days = models.PositiveSmallIntegerField(
        _("days a voucher stays valid"), default=14, validators=_bounded("voucher_valid_days")
    )
    incentive_monthly_amount = models.PositiveIntegerField(
        _("post-training incentive per month (Rp)"), default=600_000, validators=_bounded("incentive_monthly_amount")
    )
    incentive_months = models.PositiveSmallIntegerField(
        _("months of post-training incentive"), default=4, validators=_bounded("incentive_months")
    )
    survey_incentive_amount = models.PositiveIntegerField(
        _("incentive per survey (Rp)"), default=50_000, validators=_bounded("survey_incentive_amount")
    )
    survey_count = models.PositiveSmallIntegerField(
        _("number of paid surveys"), default=3, validators=_bounded("survey_count")
    )

    class AttendanceRule(models.TextChoices):
        ALL = "all", _("Every session attended and the post-test taken")
        SESSIONS = "sessions", _("Every session attended (no post-test required)")
        POST_TEST = "post_test", _("The post-test taken (sessions not checked)")

    # What completion and payment wait for: face-verified attendance checks
    # of these sessions of the course bought (enrollment.services.attendance_rule).
    attendance_rule = models.CharField(
        _("attendance rule"), max_length=10, choices=AttendanceRule.choices, default=AttendanceRule.ALL
    )
    # Who is outside the target group (issue 15): checked against the
    # integrity app's wage and education extracts at applying, at the draw
    # and before every movement of money.
    max_monthly_wage = models.PositiveIntegerField(
        _("highest monthly wage (Rp, 0: no limit)"),
        default=3_500_000,
        db_default=3_500_000,  # rows written by set-based SQL (benchmarks) get the same
        validators=_bounded("max_monthly_wage"),
    )

    class WageRule(models.TextChoices):
        REFUSE = "refuse", _("Refuse (and hold money) above the limit")
        FLAG = "flag", _("Open a case for review, refuse nothing")

    wage_rule = models.CharField(
        _("above the wage limit"), max_length=6, choices=WageRule.choices, default=WageRule.REFUSE, db_default="refuse"
    )
    pupils_ineligible = models.BooleanField(_("active school pupils are not eligible"), default=True, db_default=True)
    # The lottery, recorded so anyone can run it again (enrollment.lottery).
    # Its seed is drawn when the wave opens and only its SHA-256 shown (on the
    # public page) until the draw reveals it: nobody can choose the seed after
    # seeing who applied. Sealed (encrypted) until then.
    draw_commitment = models.CharField(_("lottery seed's SHA-256"), max_length=64, blank=True, editable=False)
    sealed_seed = models.TextField(blank=True, editable=False)
    draw_seed = models.CharField(_("lottery seed"), max_length=64, blank=True, editable=False)
    # SHA-256 of what went into the draw (who took part, who was skipped and
    # why, the quotas), so a re-run also proves its input was not changed.
    draw_digest = models.CharField(_("lottery input digest"), max_length=64, blank=True, editable=False)
    draw_quotas = models.JSONField(_("quotas at the draw"), null=True, blank=True, editable=False)
    drawn_at = models.DateTimeField(_("selection run at"), null=True, blank=True, editable=False)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("selection run by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["-number"]
        verbose_name = _("wave")
        verbose_name_plural = _("waves")
        permissions = [
            ("draw_wave", _("Can run the selection lottery of a wave")),
            ("open_wave", _("Can approve a wave's rules and open its registration")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="wave_window_ordered"),
            models.CheckConstraint(
                condition=Q(closes_at__lte=models.F("opens_at") + datetime.timedelta(days=LONGEST_WINDOW_DAYS)),
                name="wave_window_at_most_a_year",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}), name=f"wave_{name}_bounded"
                )
                for name, (low, high) in RULE_BOUNDS.items()
            ),
            models.CheckConstraint(
                condition=Q(reminder_days_before__lt=models.F("purchase_deadline_days")),
                name="wave_reminder_before_deadline",
            ),
            models.CheckConstraint(
                condition=Q(status="drawn", drawn_at__isnull=False) | (~Q(status="drawn") & Q(drawn_at__isnull=True)),
                name="wave_drawn_once_dated",
            ),
        ]

    def __str__(self):
        return _("Wave %(number)s") % {"number": self.number}

    def clean(self):
        errors = {}
        if self.opens_at and self.closes_at:
            if self.closes_at <= self.opens_at:
                errors["closes_at"] = _("Registration closes after it opens.")
            elif self.closes_at - self.opens_at > datetime.timedelta(days=LONGEST_WINDOW_DAYS):
                errors["closes_at"] = _("Registration stays open at most a year.")
        if (
            self.reminder_days_before is not None
            and self.purchase_deadline_days is not None
            and self.reminder_days_before >= self.purchase_deadline_days
        ):
            errors["reminder_days_before"] = _("The reminder comes before the deadline: fewer days than the deadline.")
        if errors:
            raise ValidationError(errors)


WAVE_TRANSITIONS = {
    Wave.Status.DRAFT: frozenset({Wave.Status.OPEN}),
    Wave.Status.OPEN: frozenset({Wave.Status.DRAWN}),
    Wave.Status.DRAWN: frozenset(),
}


class WaveProvinceQuota(models.Model):
    """The most participants of one province a wave selects."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="province_quotas")
    province_code = models.CharField(_("province"), max_length=2, choices=province_choices())
    quota = models.PositiveIntegerField(_("quota"), validators=_bounded("quota"))

    class Meta:
        verbose_name = _("province quota")
        verbose_name_plural = _("province quotas")
        constraints = [
            models.UniqueConstraint(fields=["wave", "province_code"], name="wave_province_quota_unique"),
            models.CheckConstraint(condition=Q(quota__gte=1), name="wave_province_quota_positive"),
            # Their sum never exceeds the wave's quota: a deferred trigger
            # (migration enrollment 0006), as a check cannot see other rows.
        ]

    def __str__(self):
        return f"{self.get_province_code_display()}: {self.quota}"


class WaveApplication(models.Model):
    """A participant's application to a wave."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SELECTED = "selected", _("Selected")
        NOT_SELECTED = "not_selected", _("Not selected")
        INELIGIBLE = "ineligible", _("No longer eligible")

    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="applications", verbose_name=_("wave"))
    participant = models.ForeignKey(
        "accounts.Participant", on_delete=models.PROTECT, related_name="applications", verbose_name=_("participant")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.APPLIED)
    province_code = models.CharField(_("province"), max_length=2)
    # Position in the lottery's shuffled order (1 = first drawn); empty for
    # applications that did not take part.
    draw_position = models.PositiveIntegerField(_("lottery position"), null=True, blank=True)
    # The kind of exclusion list that named the participant (shown in the
    # reader's language), empty if they left the programme otherwise.
    ineligible_reason = models.CharField(
        _("why no longer eligible"), max_length=32, blank=True, choices=INELIGIBLE_REASONS
    )
    notified_at = models.DateTimeField(_("result emailed at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["wave", "id"]
        verbose_name = _("wave application")
        verbose_name_plural = _("wave applications")
        constraints = [
            models.UniqueConstraint(fields=["wave", "participant"], name="application_once_per_wave"),
            # One open application at a time, whatever the wave.
            models.UniqueConstraint(fields=["participant"], condition=Q(status="applied"), name="application_one_open"),
        ]

    def __str__(self):
        return f"{self.wave} / {self.participant_id}: {self.status}"


_A = WaveApplication.Status
APPLICATION_TRANSITIONS = {
    _A.APPLIED: frozenset({_A.WITHDRAWN, _A.SELECTED, _A.NOT_SELECTED, _A.INELIGIBLE}),
    _A.WITHDRAWN: frozenset({_A.APPLIED}),
    _A.SELECTED: frozenset(),
    _A.NOT_SELECTED: frozenset(),
    _A.INELIGIBLE: frozenset(),
}


class Card(models.Model):
    """A Kartu Prakerja: its training balance is a ledger account."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        REVOKED = "revoked", _("Revoked")

    participant = models.OneToOneField(
        "accounts.Participant", on_delete=models.PROTECT, related_name="card", verbose_name=_("participant")
    )
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="cards", verbose_name=_("wave"))
    number = models.CharField(_("card number"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    account = models.OneToOneField(
        "payments.Account", on_delete=models.PROTECT, related_name="card", verbose_name=_("balance account")
    )
    issued_at = models.DateTimeField(_("issued at"))
    purchase_deadline = models.DateTimeField(_("buy the first course before"))
    remind_at = models.DateTimeField(_("remind of the deadline from"))
    reminder_sent_at = models.DateTimeField(_("deadline reminder sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("completed or revoked at"), null=True, blank=True)
    closed_reason = models.CharField(_("reason"), max_length=200, blank=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{16}$"), name="card_number_16_digits"),
            models.CheckConstraint(
                condition=Q(status="active", closed_at__isnull=True)
                | (~Q(status="active") & Q(closed_at__isnull=False)),
                name="card_closed_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "purchase_deadline"], name="card_deadline"),
            models.Index(fields=["status", "remind_at"], name="card_remind"),
        ]

    def __str__(self):
        return f"{self.number[:4]} •••• {self.number[-4:]}"


CARD_TRANSITIONS = {
    Card.Status.ACTIVE: frozenset({Card.Status.COMPLETED, Card.Status.REVOKED}),
    Card.Status.COMPLETED: frozenset(),
    Card.Status.REVOKED: frozenset(),
}


class EnrollmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    AUTHORISED = "authorised", _("Voucher issued")
    DECLINED = "declined", _("Declined")
    REDEEMED = "redeemed", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Voucher expired")
    PAID_OUT = "paid_out", _("Paid to the institution")


# Statuses in which the participant holds the course: bought, not undone.
HELD_STATUSES = ("authorised", "redeemed", "completed", "paid_out")
IN_PROGRESS_STATUSES = ("authorised", "redeemed")

ENROLLMENT_TRANSITIONS = {
    EnrollmentStatus.REQUESTED: frozenset({EnrollmentStatus.AUTHORISED, EnrollmentStatus.DECLINED}),
    EnrollmentStatus.AUTHORISED: frozenset(
        {EnrollmentStatus.REDEEMED, EnrollmentStatus.CANCELLED, EnrollmentStatus.EXPIRED}
    ),
    EnrollmentStatus.REDEEMED: frozenset({EnrollmentStatus.COMPLETED}),
    EnrollmentStatus.COMPLETED: frozenset({EnrollmentStatus.PAID_OUT}),
    EnrollmentStatus.DECLINED: frozenset(),
    EnrollmentStatus.CANCELLED: frozenset(),
    EnrollmentStatus.EXPIRED: frozenset(),
    EnrollmentStatus.PAID_OUT: frozenset(),
}


def _certificate_path(enrollment, filename):
    return f"certificates/{enrollment.pk}/{enrollment.certificate_name}"


class Enrollment(models.Model):
    """A purchase of a course with the card (pembelian pelatihan)."""

    Status = EnrollmentStatus

    participant = models.ForeignKey(
        "accounts.Participant", on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("participant")
    )
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("card"))
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("course")
    )
    # The version and price the participant agreed to, kept as they were.
    revision = models.ForeignKey(
        "catalog.CourseRevision", on_delete=models.PROTECT, related_name="+", verbose_name=_("course version")
    )
    institution = models.ForeignKey(
        "catalog.Institution", on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("institution")
    )
    platform = models.ForeignKey(
        "catalog.Platform", on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("platform")
    )
    price = models.PositiveIntegerField(_("price (Rp)"))
    # Chosen by the participant's browser for one press of "Buy": a retry
    # with the same key returns this enrolment.
    request_key = models.CharField(_("request key"), max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    decline_code = models.CharField(_("declined because"), max_length=32, blank=True)
    # The platform's commission on this sale at its declared rate, a figure
    # for the auditors: no money moves for it here.
    commission = models.PositiveIntegerField(_("platform commission (Rp)"), default=0, db_default=0)
    hold = models.OneToOneField(
        "payments.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollment",
        verbose_name=_("ledger hold"),
    )
    voucher_code = models.CharField(_("voucher code"), max_length=16, null=True, blank=True, unique=True)
    voucher_expires_at = models.DateTimeField(_("voucher valid until"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    certificate = models.FileField(_("certificate"), upload_to=_certificate_path, blank=True)
    certificate_name = models.CharField(_("certificate file name"), max_length=100, blank=True)
    # The same file for many participants is a sign of certificates not earned.
    certificate_sha256 = models.CharField(max_length=64, blank=True, db_default="", editable=False, db_index=True)
    # A purchase made through the platform's API: its own invoice and user.
    # Null for purchases on the PMO's pages: unique per platform when set.
    invoice_code = models.CharField(_("platform's invoice code"), max_length=64, null=True, blank=True)  # noqa: DJ001
    invoice_url = models.URLField(_("platform's invoice URL"), max_length=500, blank=True)
    platform_user_id = models.CharField(_("platform's user id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["participant", "request_key"], name="enrollment_request_once"),
            models.UniqueConstraint(fields=["platform", "invoice_code"], name="enrollment_invoice_once_per_platform"),
            # The database backs the programme rules the authorisation checks.
            models.UniqueConstraint(
                fields=["participant", "course"],
                condition=Q(status__in=HELD_STATUSES),
                name="enrollment_course_bought_once",
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(status__in=IN_PROGRESS_STATUSES),
                name="enrollment_one_in_progress",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="enrollment_price_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "declined"]) | Q(hold__isnull=False, voucher_code__isnull=False),
                name="enrollment_authorised_has_hold_and_voucher",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_code=""), name="enrollment_decline_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "paid_out"]) | ~Q(certificate=""),
                name="enrollment_completed_has_certificate",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "voucher_expires_at"], name="enrollment_voucher_expiry"),
            models.Index(fields=["institution", "status"], name="enrollment_institution_status"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.course} ({self.get_status_display()})"


class PlatformAccount(models.Model):
    """A platform's user account, tied to the participant who first bought
    with it: one card per platform account and one account per card on each
    platform, so a jockey's account cannot buy with other people's cards."""

    platform = models.ForeignKey("catalog.Platform", on_delete=models.PROTECT, related_name="+")
    platform_user_id = models.CharField(_("platform's user id"), max_length=64)
    participant = models.ForeignKey("accounts.Participant", on_delete=models.PROTECT, related_name="platform_accounts")
    linked_at = models.DateTimeField(_("first purchase at"), auto_now_add=True)

    class Meta:
        verbose_name = _("platform account")
        verbose_name_plural = _("platform accounts")
        constraints = [
            models.UniqueConstraint(fields=["platform", "platform_user_id"], name="platform_account_one_participant"),
            models.UniqueConstraint(fields=["platform", "participant"], name="platform_account_one_per_participant"),
        ]

    def __str__(self):
        return f"{self.platform_id}:{self.platform_user_id}"


class PlatformNotice(models.Model):
    """What the platform selling a course is told about its orders: a record
    its own pages (and later its API) read, newest first."""

    platform = models.ForeignKey(
        "catalog.Platform", on_delete=models.PROTECT, related_name="notices", verbose_name=_("platform")
    )
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="platform_notices")
    event = models.CharField(_("event"), max_length=12, choices=EnrollmentStatus.choices)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("platform notice")
        verbose_name_plural = _("platform notices")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "event"], name="platform_notice_once"),
        ]

    def __str__(self):
        return f"{self.platform_id}: enrolment {self.enrollment_id} {self.event}"


class CourseReview(models.Model):
    """A participant's rating (1-5 stars) and review of a course they completed."""

    enrollment = models.OneToOneField(Enrollment, on_delete=models.PROTECT, related_name="review")
    course = models.ForeignKey(
        "catalog.Course", on_delete=models.PROTECT, related_name="reviews", verbose_name=_("course")
    )
    rating = models.PositiveSmallIntegerField(_("stars"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    text = models.CharField(_("review"), max_length=2000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("course review")
        verbose_name_plural = _("course reviews")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.course}: {self.rating}★"


def _attendance_path(instance, filename):
    return f"attendance/{uuid.uuid4().hex}"


class AttendanceCheck(models.Model):
    """The participant's face checked before a session of their course: the
    institution asks for it (a signed, short-lived, one-time link to the
    PMO's page), the participant does the camera check there, and the live
    face is matched 1:1 against their accepted identity-check face."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Link sent, not yet used")
        PROCESSING = "processing", _("Being checked")
        VERIFIED = "verified", _("Attended: face verified")
        REFUSED = "refused", _("Refused")
        NEEDS_REVIEW = "needs_review", _("Waiting for a reviewer")

    class Flag(models.TextChoices):
        NO_LIVENESS = "no_liveness", _("No liveness: photos uploaded instead of the camera check")
        BORDERLINE_MATCH = "borderline_match", _("Faces neither clearly match nor clearly differ")
        CHECK_FAILED = "check_failed", _("The automatic check failed")
        SAME_PHOTO = "same_photo", _("The photo sent is the identity check's own photo, not a new one")

    enrollment = models.ForeignKey(
        "Enrollment", on_delete=models.PROTECT, related_name="attendance_checks", verbose_name=_("enrolment")
    )
    session = models.ForeignKey(
        "catalog.CourseSession", on_delete=models.PROTECT, related_name="+", verbose_name=_("session")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    link_nonce = models.CharField(max_length=43, unique=True, editable=False)
    link_expires_at = models.DateTimeField(_("link valid until"))
    opened_at = models.DateTimeField(_("used at"), null=True, blank=True)
    challenge = models.OneToOneField(
        "kyc.LivenessChallenge", on_delete=models.PROTECT, null=True, blank=True, related_name="attendance_check"
    )
    frames = models.FileField(_("camera frames"), upload_to=_attendance_path, blank=True)
    selfie = models.FileField(_("selfie (no camera)"), upload_to=_attendance_path, blank=True)
    liveness = models.JSONField(_("liveness measurements"), default=dict, blank=True)
    distance = models.FloatField(_("distance to the accepted face"), null=True, blank=True)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=2000, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_via = models.ForeignKey(
        "catalog.ApiClient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["enrollment_id", "created_at"]
        verbose_name = _("attendance check")
        verbose_name_plural = _("attendance checks")
        permissions = [("review_attendancecheck", _("Can decide attendance checks"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["issued", "processing", "verified", "refused", "needs_review"]),
                name="attendance_status_valid",
            ),
            # One verified check per session of an enrolment.
            models.UniqueConstraint(
                fields=["enrollment", "session"], condition=Q(status="verified"), name="attendance_verified_once"
            ),
        ]

    def __str__(self):
        return f"attendance #{self.pk} ({self.get_status_display()})"


ATTENDANCE_TRANSITIONS = {
    AttendanceCheck.Status.ISSUED: frozenset({AttendanceCheck.Status.PROCESSING, AttendanceCheck.Status.REFUSED}),
    AttendanceCheck.Status.PROCESSING: frozenset(
        {AttendanceCheck.Status.VERIFIED, AttendanceCheck.Status.REFUSED, AttendanceCheck.Status.NEEDS_REVIEW}
    ),
    AttendanceCheck.Status.NEEDS_REVIEW: frozenset({AttendanceCheck.Status.VERIFIED, AttendanceCheck.Status.REFUSED}),
    AttendanceCheck.Status.VERIFIED: frozenset(),
    AttendanceCheck.Status.REFUSED: frozenset(),
}
