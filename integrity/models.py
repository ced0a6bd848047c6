"""Programme integrity (issue 15): the data the PMO screens participants
against beyond the exclusion lists (wage and education registry extracts,
kept as keyed hashes of the NIK like every list), and one case queue for
whatever a control found.

A case that holds money stops it moving for its participant (purchases are
declined, incentive instalments and the institution's payout for their
completed courses wait) until an officer decides it."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ScreeningList(models.Model):
    """One extract from another agency, imported from CSV by the PMO."""

    class Kind(models.TextChoices):
        WAGE = "wage", _("Wages (social-security agency)")
        EDUCATION = "education", _("Education registry")

    class Status(models.TextChoices):
        IMPORTING = "importing", _("Importing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=200, help_text=_("Where the extract came from and its date."))
    status = models.CharField(_("import status"), max_length=10, choices=Status.choices, default=Status.IMPORTING)
    is_active = models.BooleanField(_("active"), default=True)
    upload = models.FileField(upload_to="screening-lists/", blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    row_count = models.PositiveIntegerField(_("rows imported"), default=0, editable=False)
    skipped_count = models.PositiveIntegerField(_("rows skipped"), default=0, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        verbose_name = _("screening list")
        verbose_name_plural = _("screening lists")
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.source}"


LIST_TRANSITIONS = {
    ScreeningList.Status.IMPORTING: frozenset({ScreeningList.Status.READY, ScreeningList.Status.FAILED}),
    ScreeningList.Status.READY: frozenset(),
    ScreeningList.Status.FAILED: frozenset(),
}


class ScreeningRecord(models.Model):
    """One row of an extract: a wage for a month, or a school status. The
    NIK is only its keyed hash."""

    screening_list = models.ForeignKey(ScreeningList, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=10, choices=ScreeningList.Kind.choices)
    nik_index = models.CharField(max_length=64)
    monthly_wage = models.PositiveBigIntegerField(_("monthly wage"), null=True, blank=True)
    month = models.DateField(_("month"), null=True, blank=True)
    organisation = models.CharField(_("employer or school"), max_length=120, blank=True)
    pupil_status = models.CharField(_("status in the registry"), max_length=20, blank=True)
    active_pupil = models.BooleanField(_("active pupil"), default=False)

    class Meta:
        verbose_name = _("screening record")
        verbose_name_plural = _("screening records")
        constraints = [
            models.UniqueConstraint(fields=["screening_list", "nik_index"], name="screening_record_unique"),
        ]
        indexes = [models.Index(fields=["kind", "nik_index"], name="screening_record_kind_nik")]

    def __str__(self):
        return f"{self.get_kind_display()} record {self.pk}"


class Case(models.Model):
    """What a control found, the evidence, the money held or at risk, and the
    officer's decision."""

    class Kind(models.TextChoices):
        EXCLUSION = "exclusion", _("On an exclusion list")
        WAGE = "wage", _("Wage above the wave's limit")
        PUPIL = "pupil", _("Still a school pupil")
        COMPLETION = "completion", _("Implausible completions")
        CONFLICT = "conflict", _("Platform selling its affiliated institution's course")
        NAME_MISMATCH = "name", _("Incentive account in another name")
        LINKED = "linked", _("Linked accounts (possible jockey)")

    class Status(models.TextChoices):
        OPEN = "open", _("Being checked")
        BLOCKED = "blocked", _("Kept blocked")
        CLEARED = "cleared", _("Cleared")
        REVOKED = "revoked", _("Card revoked and blacklisted")
        RECOVERED = "recovered", _("Money recovered")

    class Stage(models.TextChoices):
        APPLY = "apply", _("On applying to a wave")
        DRAW = "draw", _("At the wave's draw")
        PURCHASE = "purchase", _("At a purchase authorisation")
        PAYOUT = "payout", _("Before the institution's payout")
        INCENTIVE = "incentive", _("Before an incentive payment")
        RESCREEN = "rescreen", _("Re-screening after a list was imported")
        SCAN = "scan", _("The daily scan")
        DECLARATION = "declaration", _("When an owner or affiliate was declared")

    kind = models.CharField(_("finding"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    stage = models.CharField(_("found"), max_length=12, choices=Stage.choices)
    # One case per finding and its evidence: found again (at the next purchase,
    # by the next re-screen of the same list) it is the same case.
    key = models.CharField(max_length=120, unique=True, editable=False)
    participant = models.ForeignKey(
        "accounts.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrity_cases",
        verbose_name=_("participant"),
    )
    institution = models.ForeignKey(
        "catalog.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrity_cases",
        verbose_name=_("institution"),
    )
    course = models.ForeignKey(
        "catalog.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="integrity_cases",
        verbose_name=_("course listing"),
    )
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    holds_money = models.BooleanField(_("holds money"), default=True)
    amount_held = models.PositiveBigIntegerField(_("money held or at risk (Rp)"), default=0)
    screening_run = models.ForeignKey(
        "ScreeningRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("re-screen"),
    )
    created_at = models.DateTimeField(_("found at"), auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    recovered_amount = models.PositiveBigIntegerField(_("recovered (Rp)"), default=0)
    objection = models.TextField(_("participant's objection"), blank=True, max_length=2000)
    objected_at = models.DateTimeField(_("objected at"), null=True, blank=True)
    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        verbose_name = _("integrity case")
        verbose_name_plural = _("integrity cases")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("decide_case", "Can decide integrity cases"),
            ("recover_case", "Can revoke the card or recover the money of an integrity case"),
        ]
        indexes = [
            models.Index(
                fields=["participant"],
                condition=Q(status__in=["open", "blocked"], holds_money=True),
                name="case_holding_participant",
            )
        ]

    def __str__(self):
        return _("Case %(number)s") % {"number": self.pk}

    @property
    def is_holding(self) -> bool:
        return self.holds_money and self.status in HOLDING_STATUSES


HOLDING_STATUSES = (Case.Status.OPEN, Case.Status.BLOCKED)

CASE_TRANSITIONS = {
    Case.Status.OPEN: frozenset({Case.Status.CLEARED, Case.Status.BLOCKED, Case.Status.REVOKED, Case.Status.RECOVERED}),
    Case.Status.BLOCKED: frozenset({Case.Status.CLEARED, Case.Status.REVOKED, Case.Status.RECOVERED}),
    Case.Status.REVOKED: frozenset({Case.Status.RECOVERED}),
    Case.Status.CLEARED: frozenset(),
    Case.Status.RECOVERED: frozenset(),
}


class ScreeningRun(models.Model):
    """One re-screen of everyone holding an active card against a list just
    imported: its report is the cases it opened."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    label = models.CharField(_("list"), max_length=250)
    list_kind = models.CharField(_("kind of list"), max_length=16)
    list_id = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    cards_screened = models.PositiveIntegerField(_("active cards screened"), default=0)
    found_count = models.PositiveIntegerField(_("now ineligible"), default=0)
    amount_held = models.PositiveBigIntegerField(_("money held (Rp)"), default=0)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-screen")
        verbose_name_plural = _("re-screens")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["list_kind", "list_id"], name="screening_run_once_per_list"),
        ]

    def __str__(self):
        return str(self.label)


class DeviceSighting(models.Model):
    """A browser (by the random cookie it keeps, hashed with a key) seen
    doing something for a participant: signing up, logging in, an identity
    check. Many participants on one device, or many identity checks from
    one, is a sign of a jockey (joki) registering for others."""

    class What(models.TextChoices):
        REGISTER = "register", _("Registration")
        LOGIN = "login", _("Log in")
        KYC = "kyc", _("Identity check")

    device_key = models.CharField(max_length=64)
    participant = models.ForeignKey("accounts.Participant", on_delete=models.CASCADE, related_name="device_sightings")
    what = models.CharField(_("what"), max_length=10, choices=What.choices)
    count = models.PositiveIntegerField(_("times"), default=1)
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        verbose_name = _("device sighting")
        verbose_name_plural = _("device sightings")
        constraints = [
            models.UniqueConstraint(fields=["device_key", "participant", "what"], name="device_sighting_once"),
        ]
        indexes = [models.Index(fields=["device_key"], name="device_sighting_key")]

    def __str__(self):
        return f"{self.device_key[:8]} {self.what}"
