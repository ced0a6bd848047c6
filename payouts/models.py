"""Payouts: money leaving the programme for a bank account or e-wallet.

A PayoutBatch gathers completed, unpaid enrolments up to a cut-off; it holds
one Payout per payee (an institution, or a platform that forwards the money)
with a PayoutLine per institution and a PayoutItem per enrolment. A
participant's incentive instalment is a Payout without a batch. Every Payout
goes the same way: its lines move from their ledger accounts to payout
clearing when it is sent, clearing is settled when the gateway reports
success and reversed when it reports failure.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from payments.channels import PayoutChannel
from prakerja.inputs import parse_id


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SENDING = "sending", _("Sending")
        SETTLED = "settled", _("Settled")
        PARTLY_FAILED = "partly_failed", _("Partly failed")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")
        DISCARDED = "discarded", _("Discarded")

    cutoff = models.DateTimeField(_("completed up to"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.DRAFT)
    total_amount = models.BigIntegerField(_("total (Rp)"), default=0)
    payout_count = models.PositiveIntegerField(_("payouts"), default=0)
    enrollment_count = models.PositiveIntegerField(_("enrolments"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by")
    )
    created_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved or rejected by"),
    )
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    reconciliation_ok = models.BooleanField(_("reconciliation clean"), null=True)
    reconciliation = models.JSONField(_("reconciliation report"), default=dict, blank=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        permissions = [
            ("prepare_payoutbatch", _("Can prepare payout batches")),
            ("approve_payoutbatch", _("Can approve or reject payout batches")),
        ]
        constraints = [
            # Four eyes, kept by the database: the checker is never the maker.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("created_by")),
                name="payoutbatch_checker_is_not_maker",
            ),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="payoutbatch_total_not_negative"),
        ]

    def __str__(self):
        return _("Payout batch %(id)s") % {"id": self.pk}


BATCH_TRANSITIONS = {
    PayoutBatch.Status.DRAFT: frozenset({PayoutBatch.Status.SUBMITTED, PayoutBatch.Status.DISCARDED}),
    PayoutBatch.Status.SUBMITTED: frozenset(
        {PayoutBatch.Status.APPROVED, PayoutBatch.Status.REJECTED, PayoutBatch.Status.DISCARDED}
    ),
    PayoutBatch.Status.APPROVED: frozenset({PayoutBatch.Status.SENDING}),
    PayoutBatch.Status.SENDING: frozenset(
        {PayoutBatch.Status.SETTLED, PayoutBatch.Status.PARTLY_FAILED, PayoutBatch.Status.FAILED}
    ),
    PayoutBatch.Status.SETTLED: frozenset(),
    PayoutBatch.Status.PARTLY_FAILED: frozenset(),
    PayoutBatch.Status.FAILED: frozenset(),
    PayoutBatch.Status.REJECTED: frozenset(),
    PayoutBatch.Status.DISCARDED: frozenset(),
}


class Payout(models.Model):
    """One transfer through the gateway. Its id is the gateway's reference
    and idempotency key, so sending it again cannot pay twice."""

    class Kind(models.TextChoices):
        COURSE_FEES = "course_fees", _("Course fees")
        INCENTIVE = "incentive", _("Participant incentive")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="payouts", verbose_name=_("batch")
    )
    # The payee: exactly one of these.
    institution = models.ForeignKey(
        "catalog.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="payouts"
    )
    platform = models.ForeignKey(
        "catalog.Platform", on_delete=models.PROTECT, null=True, blank=True, related_name="payouts"
    )
    participant = models.ForeignKey(
        "accounts.Participant", on_delete=models.PROTECT, null=True, blank=True, related_name="payouts"
    )
    # Where it goes, as it was when the payout was made.
    channel_code = models.CharField(_("bank or e-wallet"), max_length=20, choices=PayoutChannel.choices)
    account_number = models.CharField(_("account number"), max_length=30)
    account_holder = models.CharField(_("account holder"), max_length=100)
    amount = models.BigIntegerField(_("amount (Rp)"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    gateway_id = models.CharField(_("gateway payout id"), max_length=64, blank=True, db_index=True)
    gateway_status = models.CharField(_("gateway status"), max_length=24, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=64, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked with the gateway"), null=True, blank=True)
    # Every attempt to pay an incentive instalment, failed ones included.
    incentive_payment = models.ForeignKey(
        "IncentivePayment", on_delete=models.PROTECT, null=True, blank=True, related_name="attempts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    events = GenericRelation("audit.AuditEvent", verbose_name=_("history"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(institution__isnull=False, platform__isnull=True, participant__isnull=True)
                    | Q(institution__isnull=True, platform__isnull=False, participant__isnull=True)
                    | Q(institution__isnull=True, platform__isnull=True, participant__isnull=False)
                ),
                name="payout_one_payee",
            ),
            models.CheckConstraint(
                condition=Q(kind="incentive", participant__isnull=False, batch__isnull=True)
                | Q(kind="course_fees", participant__isnull=True, batch__isnull=False, incentive_payment__isnull=True),
                name="payout_kind_matches_payee",
            ),
            models.UniqueConstraint(
                fields=["batch", "institution"], condition=Q(batch__isnull=False), name="payout_one_per_institution"
            ),
            models.UniqueConstraint(
                fields=["batch", "platform"], condition=Q(batch__isnull=False), name="payout_one_per_platform"
            ),
        ]
        indexes = [models.Index(fields=["status", "sent_at"], name="payout_status_sent")]

    def __str__(self):
        return _("Payout %(id)s") % {"id": self.pk}

    @property
    def reference(self) -> str:
        return payout_reference(self.pk)

    @property
    def payee(self):
        return self.institution or self.platform or self.participant

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


def payout_reference(payout_id: int) -> str:
    """Our payout's reference at the gateway, and its idempotency key."""
    return f"{settings.PAYOUT_REFERENCE_PREFIX}-{payout_id}"


def payout_id_of(reference: str) -> int | None:
    """The payout a reference of this environment names, else None."""
    prefix, _sep, number = (reference or "").rpartition("-")
    return parse_id(number) if prefix == settings.PAYOUT_REFERENCE_PREFIX else None


PAYOUT_TRANSITIONS = {
    Payout.Status.PENDING: frozenset({Payout.Status.SENT}),
    Payout.Status.SENT: frozenset({Payout.Status.SUCCEEDED, Payout.Status.FAILED}),
    Payout.Status.SUCCEEDED: frozenset(),
    Payout.Status.FAILED: frozenset(),
}


class PayoutLine(models.Model):
    """What one ledger account contributes to a payout: for a platform that
    forwards, one line per institution (the breakdown it forwards by)."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    source = models.ForeignKey(
        "payments.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("from ledger account")
    )
    institution = models.ForeignKey(
        "catalog.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="payout_lines"
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    enrollment_count = models.PositiveIntegerField(_("enrolments"), default=0)

    class Meta:
        ordering = ["payout_id", "pk"]
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payoutline_amount_positive"),
            models.UniqueConstraint(fields=["payout", "source"], name="payoutline_one_per_account"),
        ]

    def __str__(self):
        return f"{self.payout_id}/{self.institution_id}: {self.amount}"


class PayoutItem(models.Model):
    """A completed enrolment in a batch. ``released`` when its payout failed
    or its batch was rejected, so a later batch may take it again."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="items")
    enrollment = models.ForeignKey("enrollment.Enrollment", on_delete=models.PROTECT, related_name="payout_items")
    institution = models.ForeignKey("catalog.Institution", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(_("amount (Rp)"))
    released = models.BooleanField(_("released for a later batch"), default=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("enrolment in a batch")
        verbose_name_plural = _("enrolments in batches")
        constraints = [
            # An enrolment is in at most one batch that has not failed for it.
            models.UniqueConstraint(
                fields=["enrollment"], condition=Q(released=False), name="payoutitem_enrollment_once"
            ),
        ]
        indexes = [models.Index(fields=["payout", "institution"], name="payoutitem_payout_institution")]

    def __str__(self):
        return f"{self.batch_id}: {self.enrollment_id}"


class IncentiveAccount(models.Model):
    """The bank account or e-wallet a participant's incentives go to, in
    their own verified name: confirmed by a code sent to their phone, then
    by the bank's name inquiry (the holder's name against the KYC name); a
    different name goes to the PMO's review as an integrity case."""

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Waiting for the SMS code")
        CHECKING = "checking", _("Checking the holder's name with the bank")
        REVIEW = "review", _("The bank's holder name differs: the PMO checks it")
        CONFIRMED = "confirmed", _("Confirmed")
        REPLACED = "replaced", _("Replaced")
        REFUSED = "refused", _("Refused by the bank")

    participant = models.ForeignKey("accounts.Participant", on_delete=models.PROTECT, related_name="incentive_accounts")
    channel_code = models.CharField(_("bank or e-wallet"), max_length=20, choices=PayoutChannel.choices)
    account_number = models.CharField(_("account or phone number"), max_length=30)
    account_holder = models.CharField(_("account holder"), max_length=100)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    refused_reason = models.CharField(_("why the bank refused it"), max_length=500, blank=True)
    name_check_id = models.CharField(_("name inquiry"), max_length=100, blank=True)
    name_check_attempts = models.PositiveSmallIntegerField(_("name inquiries sent"), default=0)
    bank_holder_name = models.CharField(_("holder's name at the bank"), max_length=150, blank=True)
    name_checked_at = models.DateTimeField(_("name checked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("incentive account")
        verbose_name_plural = _("incentive accounts")
        indexes = [
            # The linked-accounts scan (one account, several participants) and the name-check sweep.
            models.Index(fields=["channel_code", "account_number"], name="incentiveaccount_number"),
            models.Index(fields=["status"], name="incentiveaccount_checking", condition=Q(status="checking")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=Q(status="confirmed"), name="incentiveaccount_one_confirmed"
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_code_display()} {self.account_number[-4:]:>4}"


_IA = IncentiveAccount.Status
INCENTIVE_ACCOUNT_TRANSITIONS = {
    _IA.UNCONFIRMED: frozenset({_IA.CHECKING}),
    _IA.CHECKING: frozenset({_IA.CONFIRMED, _IA.REVIEW, _IA.REFUSED, _IA.REPLACED}),
    _IA.REVIEW: frozenset({_IA.CONFIRMED, _IA.REFUSED, _IA.REPLACED}),
    _IA.CONFIRMED: frozenset({_IA.REPLACED, _IA.REFUSED}),
    _IA.REPLACED: frozenset(),
    _IA.REFUSED: frozenset(),
}


class IncentivePayment(models.Model):
    """One instalment a participant is owed: a month of the post-training
    incentive, or the reward for one survey."""

    class Kind(models.TextChoices):
        POST_TRAINING = "post_training", _("Post-training incentive")
        SURVEY = "survey", _("Survey incentive")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PAYING = "paying", _("Being paid")
        PAID = "paid", _("Paid")
        WITHHELD = "withheld", _("Withheld")

    participant = models.ForeignKey("accounts.Participant", on_delete=models.PROTECT, related_name="incentives")
    wave = models.ForeignKey("enrollment.Wave", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(_("number"))
    amount = models.PositiveIntegerField(_("amount (Rp)"))
    # A survey's reward is due once the survey is answered.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    payout = models.OneToOneField(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="incentive", verbose_name=_("payout")
    )
    last_failure = models.CharField(_("last failure"), max_length=500, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participant_id", "kind", "number"]
        verbose_name = _("incentive instalment")
        verbose_name_plural = _("incentive instalments")
        constraints = [
            models.UniqueConstraint(fields=["participant", "kind", "number"], name="incentive_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="incentive_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "withheld"]) | Q(payout__isnull=False),
                name="incentive_paying_has_payout",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="incentive_status_due")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


_IP = IncentivePayment.Status
INCENTIVE_PAYMENT_TRANSITIONS = {
    _IP.SCHEDULED: frozenset({_IP.PAYING, _IP.WITHHELD}),
    _IP.PAYING: frozenset({_IP.PAID, _IP.SCHEDULED}),  # back to scheduled when its payout failed
    _IP.PAID: frozenset(),
    # An integrity case found the participant should not be paid.
    _IP.WITHHELD: frozenset(),
}


class SurveyResponse(models.Model):
    """A participant's answers to one of the paid follow-up surveys."""

    class Work(models.TextChoices):
        EMPLOYED = "employed", _("Working for an employer")
        SELF_EMPLOYED = "self_employed", _("Running my own business")
        LOOKING = "looking", _("Looking for work")
        NOT_WORKING = "not_working", _("Not working and not looking")

    participant = models.ForeignKey("accounts.Participant", on_delete=models.PROTECT, related_name="surveys")
    number = models.PositiveSmallIntegerField(_("survey"))
    work = models.CharField(_("work now"), max_length=14, choices=Work.choices)
    usefulness = models.PositiveSmallIntegerField(_("how useful the training was (1-5)"))
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="survey_once"),
            models.CheckConstraint(condition=Q(usefulness__gte=1, usefulness__lte=5), name="survey_usefulness_range"),
        ]

    def __str__(self):
        return f"{self.participant_id}: survey {self.number}"
