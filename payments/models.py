"""The double-entry ledger (DESIGN.md "Money"). Amounts are whole rupiah.

Every movement is a Transfer from one Account to another, immutable once
made and identified by a key the caller supplies, so a retried request
cannot move money twice. A hold is a pending transfer: it reserves the
amount on the debit account (``held``) and is later posted or voided,
exactly once.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Kind(models.TextChoices):
        PROGRAMME_FUND = "programme_fund", _("Programme fund")
        PARTICIPANT_TRAINING = "participant_training", _("Participant training balance")
        PARTICIPANT_INCENTIVE = "participant_incentive", _("Participant incentive")
        INSTITUTION_PAYABLE = "institution_payable", _("Institution payable")
        PLATFORM_PAYABLE = "platform_payable", _("Platform payable")
        PAYOUT_CLEARING = "payout_clearing", _("Payout clearing")
        # Money that left through the gateway to a bank or e-wallet.
        DISBURSED = "disbursed", _("Paid out")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    # Whose account: "participant:12", "institution:3"; empty for the
    # programme's own accounts.
    owner = models.CharField(_("owner"), max_length=40, blank=True)
    balance = models.BigIntegerField(_("balance"), default=0)
    held = models.BigIntegerField(_("held"), default=0)
    # Only the programme fund (the state budget's side) may go below zero.
    allow_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "owner"], name="account_kind_owner_unique"),
            models.CheckConstraint(condition=Q(held__gte=0), name="account_held_not_negative"),
            # No balance below zero, and nothing held that is not there:
            # enforced by the database whatever the code does.
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=F("held")),
                name="account_available_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.owner}".strip()

    @property
    def available(self) -> int:
        return self.balance - self.held


class Transfer(models.Model):
    class Status(models.TextChoices):
        POSTED = "posted", _("Posted")
        PENDING = "pending", _("Held")
        VOIDED = "voided", _("Voided")

    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    debit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.BigIntegerField(_("amount (Rp)"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    is_hold = models.BooleanField(_("two-phase"), default=False)
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(debit=F("credit")), name="transfer_two_accounts"),
            # A direct transfer is posted at once; only a hold is ever pending
            # or voided, and it is resolved at most once.
            models.CheckConstraint(
                condition=Q(is_hold=True) | Q(status="posted", resolved_at__isnull=True),
                name="transfer_direct_is_posted",
            ),
            models.CheckConstraint(
                condition=Q(is_hold=False)
                | Q(status="pending", resolved_at__isnull=True)
                | Q(resolved_at__isnull=False),
                name="transfer_hold_resolution_dated",
            ),
        ]

    def __str__(self):
        return f"{self.key}: {self.amount} ({self.status})"
