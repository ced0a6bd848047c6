"""The payment gateway that sends payouts (issue 6), behind a small interface.

``PayoutGateway`` is what the disbursement jobs use; ``XenditPayoutGateway``
(xendit.py) implements it against Xendit's Payouts API v2, and standin.py is
a local server speaking the same HTTP protocol for the demo and the tests.

``AccountValidator`` is the gateway's name inquiry (issue 15): whom the bank
or e-wallet says an account belongs to, asked before a participant's
incentive account is confirmed; ``XenditAccountValidator`` implements it
against Xendit's bank account validation (``/v2/identity/bank_account_data_requests``).
"""

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayError(Exception):
    """The gateway did not give a definite answer (timeout, connection
    refused, 5xx, rate limit): the same request, with the same idempotency
    key, may be retried later."""


class GatewayRefused(Exception):
    """The gateway refused the payout for good (invalid account, holder name
    mismatch, validation): retrying the same request cannot succeed."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class WebhookRejected(Exception):
    """A webhook that did not come from the gateway (wrong or missing token)
    or cannot be read."""


@dataclass(frozen=True)
class PayoutRequest:
    reference_id: str  # our payout's id; also the idempotency key
    channel_code: str  # e.g. ID_BNI, ID_OVO
    account_number: str
    account_holder_name: str
    amount: int  # whole rupiah
    description: str = ""


@dataclass(frozen=True)
class GatewayPayout:
    id: str
    reference_id: str
    status: str  # ACCEPTED, REQUESTED, SUCCEEDED, FAILED, CANCELLED, REVERSED...
    amount: int
    failure_code: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"})


class PayoutGateway(Protocol):
    def create_payout(self, request: PayoutRequest) -> GatewayPayout:
        """Creates the payout once: the same reference again returns the
        first payout. Raises GatewayError (retry) or GatewayRefused."""

    def get_payout(self, payout_id: str) -> GatewayPayout:
        """The payout as the gateway sees it now (for webhooks that never came)."""

    def find_payout(self, reference_id: str) -> GatewayPayout | None:
        """The payout created with this reference, if any."""

    def parse_webhook(self, headers, body: bytes) -> GatewayPayout:
        """Checks a status webhook's authenticity; raises WebhookRejected."""


@dataclass(frozen=True)
class AccountCheck:
    """A name inquiry as the gateway answers it."""

    id: str
    reference_id: str
    status: str  # PENDING, COMPLETED or FAILED; UNKNOWN: the gateway has no such request (ask anew)
    is_found: bool | None = None
    holder_name: str = ""  # the name the bank holds for the account
    name_matching: str = ""  # the gateway's own comparison with the name we gave, if it made one
    failure_code: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in ("COMPLETED", "FAILED")


class AccountValidator(Protocol):
    def request_check(
        self, *, reference_id: str, channel_code: str, account_number: str, given_name: str
    ) -> AccountCheck:
        """Asks whom the account belongs to; the answer may be PENDING.
        Raises GatewayError (ask again later) or GatewayRefused (this account
        cannot be checked: the bank is not supported, the number is invalid)."""

    def get_check(self, check_id: str) -> AccountCheck:
        """The inquiry's answer now."""


def get_account_validator() -> AccountValidator:
    return import_string(settings.ACCOUNT_VALIDATOR)()


def get_gateway() -> PayoutGateway:
    return import_string(settings.PAYOUT_GATEWAY)()
