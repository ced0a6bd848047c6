"""Xendit Payouts API v2 (https://docs.xendit.co/apidocs/create-payout).

- Create: ``POST /v2/payouts`` with HTTP basic auth (the secret key as user,
  empty password), an ``Idempotency-key`` header, and ``reference_id``,
  ``channel_code``, ``channel_properties`` {account_number,
  account_holder_name}, ``amount`` and ``currency`` IDR.
- A repeated key is refused with HTTP 409 (``DUPLICATE_ERROR``; the older
  disbursement API said ``DUPLICATE_TRANSACTION_ERROR``): the payout already
  exists, so it is fetched by reference (``GET /v2/payouts?reference_id=``)
  instead of being created again. Any 409 is read that way.
- Our own mistakes (a wrong or under-privileged key, a wrong URL) and an
  empty balance are not the payee's: they are GatewayError, retried and
  logged, never a refusal that would fail the payout.
- Status: ``GET /v2/payouts/{id}``; webhooks ``payout.succeeded`` and
  ``payout.failed`` carry an ``x-callback-token`` header to compare with the
  verification token from the dashboard.
"""

import hmac
import json
import re
from urllib.parse import quote

import requests
from django.conf import settings

from . import AccountCheck, GatewayError, GatewayPayout, GatewayRefused, PayoutRequest, WebhookRejected

DUPLICATE_ERRORS = frozenset({"DUPLICATE_ERROR", "DUPLICATE_TRANSACTION_ERROR", "IDEMPOTENCY_ERROR"})

# Answers about our own set-up or funds, not the payee's account: retrying
# (after someone fixes the key or tops up the balance) is right; failing
# the payout and blaming the payee is not.
OUR_PROBLEMS = frozenset(
    {"INVALID_API_KEY", "REQUEST_FORBIDDEN_ERROR", "INSUFFICIENT_BALANCE", "FEATURE_NOT_ACTIVATED", "NOT_FOUND"}
)


# What each field of a payout may hold. Anything else in an answer or a
# webhook is refused whole, never logged raw or put in a URL.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_CODE = re.compile(r"[A-Z0-9_]{1,64}")
MAX_AMOUNT = 10**12  # more rupiah than any payout; bigger is not a payout


def _printable(text: str, limit: int = 200) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text[:limit])


class MalformedPayout(ValueError):
    pass


def _text(data: dict, key: str, pattern: re.Pattern, *, required: bool) -> str:
    value = data.get(key)
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedPayout(f"field {key} missing or malformed")
    return value


def _payout(data) -> GatewayPayout:
    """A payout from the gateway's JSON, every field checked: raises
    MalformedPayout naming the field (never quoting its value)."""
    if not isinstance(data, dict):
        raise MalformedPayout("payout is not an object")
    amount = data.get("amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise MalformedPayout("field amount is not a number")
    if not 0 <= amount <= MAX_AMOUNT:  # also refuses NaN and Infinity, which JSON parsing lets through
        raise MalformedPayout("field amount out of range")
    if amount != int(amount):
        raise MalformedPayout("field amount is not a whole number")
    return GatewayPayout(
        id=_text(data, "id", _ID, required=True),
        reference_id=_text(data, "reference_id", _ID, required=False),
        status=_text(data, "status", _CODE, required=True),
        amount=int(amount),
        failure_code=_text(data, "failure_code", _CODE, required=False),
        raw=data,
    )


def _answer(data) -> GatewayPayout:
    try:
        return _payout(data)
    except MalformedPayout as exc:
        raise GatewayError(f"unreadable gateway answer: {exc}") from exc


class XenditPayoutGateway:
    def __init__(
        self, *, base_url: str | None = None, secret_key: str | None = None, callback_token: str | None = None
    ):
        self.base_url = (base_url or settings.XENDIT_BASE_URL).rstrip("/")
        self.secret_key = secret_key if secret_key is not None else settings.XENDIT_SECRET_KEY
        self.callback_token = callback_token if callback_token is not None else settings.XENDIT_CALLBACK_TOKEN
        self.timeout = settings.XENDIT_TIMEOUT_SECONDS
        self.session = requests.Session()
        self.session.auth = (self.secret_key, "")

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:  # timeout, refused, reset
            raise GatewayError(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            code, _message = self._error(response)
            raise GatewayError(f"{method} {path}: HTTP {response.status_code} {code}: check XENDIT_SECRET_KEY")
        return response

    @staticmethod
    def _json(response: requests.Response):
        try:
            return response.json()
        except ValueError as exc:
            raise GatewayError(f"HTTP {response.status_code}: the answer is not JSON") from exc

    @staticmethod
    def _error(response: requests.Response) -> tuple[str, str]:
        """The gateway's error code and message, fit for a log line: a code
        that is not one is not repeated, and the message loses its control
        characters (a newline would forge a log line)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return f"HTTP_{response.status_code}", _printable(response.text)
        code = body.get("error_code")
        code = code if isinstance(code, str) and _CODE.fullmatch(code) else f"HTTP_{response.status_code}"
        return code, _printable(str(body.get("message", "")))

    def create_payout(self, request: PayoutRequest) -> GatewayPayout:
        body = {
            "reference_id": request.reference_id,
            "channel_code": request.channel_code,
            "channel_properties": {
                "account_number": request.account_number,
                "account_holder_name": request.account_holder_name,
            },
            "amount": request.amount,
            "currency": "IDR",
            "description": request.description[:100],
        }
        response = self._call("POST", "/v2/payouts", json=body, headers={"Idempotency-key": request.reference_id})
        if response.status_code in (200, 201):
            return _answer(self._json(response))
        code, message = self._error(response)
        if response.status_code == 409 or code in DUPLICATE_ERRORS:
            found = self.find_payout(request.reference_id)
            if found is None:
                raise GatewayError(f"duplicate key but no payout with reference {request.reference_id}")
            return found
        if code in OUR_PROBLEMS or response.status_code == 404:
            raise GatewayError(f"create payout: HTTP {response.status_code} {code}: {message}")
        if 400 <= response.status_code < 500:
            raise GatewayRefused(code, message)
        raise GatewayError(f"create payout: {code} {message}")

    def get_payout(self, payout_id: str) -> GatewayPayout:
        if not isinstance(payout_id, str) or not _ID.fullmatch(payout_id):
            raise GatewayError("get payout: malformed payout id")
        response = self._call("GET", f"/v2/payouts/{quote(payout_id, safe='')}")
        if response.status_code != 200:
            code, message = self._error(response)
            raise GatewayError(f"get payout {payout_id}: {code} {message}")
        return _answer(self._json(response))

    def find_payout(self, reference_id: str) -> GatewayPayout | None:
        response = self._call("GET", "/v2/payouts", params={"reference_id": reference_id})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            code, message = self._error(response)
            raise GatewayError(f"find payout {reference_id}: {code} {message}")
        body = self._json(response)
        items = body if isinstance(body, list) else body.get("data", []) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise GatewayError(f"find payout {reference_id}: unreadable answer")
        return _answer(items[0]) if items else None

    def parse_webhook(self, headers, body: bytes) -> GatewayPayout:
        token = headers.get("x-callback-token") or ""
        if not self.callback_token or not hmac.compare_digest(token.encode(), self.callback_token.encode()):
            raise WebhookRejected("callback token missing or wrong")
        try:
            event = json.loads(body)
            data = event["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("unreadable webhook") from exc
        try:
            return _payout(data)
        except MalformedPayout as exc:
            raise WebhookRejected(f"malformed webhook: {exc}") from exc


# ---------------------------------------------------------------- name inquiry

_CHECK_STATUSES = frozenset({"PENDING", "COMPLETED", "FAILED"})


def _holder(result: dict) -> str:
    """The holder's name as the bank gave it, printable and bounded."""
    value = result.get("account_holder_name")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayout("field account_holder_name is not text")
    return _printable(value, 150).strip()


def _check(data) -> AccountCheck:
    """A name inquiry from the gateway's JSON, every field checked."""
    if not isinstance(data, dict):
        raise GatewayError("unreadable name inquiry: not an object")
    try:
        status = data.get("status")
        status = status.upper() if isinstance(status, str) else ""
        if not _CODE.fullmatch(status):
            raise MalformedPayout("field status missing or malformed")
        result = data.get("result") or {}
        if not isinstance(result, dict):
            raise MalformedPayout("field result is not an object")
        found = result.get("is_found")
        if found is not None and not isinstance(found, bool):
            raise MalformedPayout("field is_found is not a boolean")
        return AccountCheck(
            id=_text(data, "id", _ID, required=True),
            reference_id=_text(data, "reference_id", _ID, required=False),
            status=status if status in _CHECK_STATUSES else "FAILED",
            is_found=found,
            holder_name=_holder(result),
            name_matching=_text(result, "name_matching_result", _CODE, required=False),
            failure_code=_text(data, "failure_code", _CODE, required=False),
        )
    except MalformedPayout as exc:
        raise GatewayError(f"unreadable name inquiry: {exc}") from exc


# Our payout channel codes to the bank codes of the validation API. Written
# out, not derived, so a channel the validation does not know is caught here
# (GatewayRefused: the account goes to review) and never sent as a guess.
# The e-wallet codes follow Xendit's e-wallet naming; their support by the
# validation endpoint is to be confirmed with Xendit before production.
VALIDATION_BANK_CODES = {
    "ID_BCA": "BCA",
    "ID_BNI": "BNI",
    "ID_BRI": "BRI",
    "ID_MANDIRI": "MANDIRI",
    "ID_BSI": "BSI",
    "ID_BTN": "BTN",
    "ID_CIMB": "CIMB",
    "ID_DANAMON": "DANAMON",
    "ID_PERMATA": "PERMATA",
    "ID_OVO": "OVO",
    "ID_GOPAY": "GOPAY",
    "ID_DANA": "DANA",
    "ID_LINKAJA": "LINKAJA",
    "ID_SHOPEEPAY": "SHOPEEPAY",
}


def bank_code(channel_code: str) -> str:
    try:
        return VALIDATION_BANK_CODES[channel_code]
    except KeyError:
        raise GatewayRefused("BANK_CODE_NOT_SUPPORTED", f"no validation bank code for {channel_code}") from None


class XenditAccountValidator(XenditPayoutGateway):
    """Xendit's bank account validation (name inquiry).

    - ``POST /v2/identity/bank_account_data_requests`` with
      ``bank_account_number``, ``bank_code``, ``given_name`` (the name we
      expect, the participant's verified KTP name) and ``reference_id``;
      the answer has an ``id`` and ``status`` PENDING, COMPLETED or FAILED,
      and once COMPLETED a ``result`` with ``is_found``,
      ``account_holder_name`` and ``name_matching_result``.
    - ``GET /v2/identity/bank_account_data_requests/{id}`` for a PENDING one.
    - A 4xx that is about the account (an unsupported bank, an invalid
      number) is GatewayRefused; our own key or set-up problems and 5xx are
      GatewayError, asked again later.
    """

    PATH = "/v2/identity/bank_account_data_requests"

    def request_check(self, *, reference_id: str, channel_code: str, account_number: str, given_name: str):
        body = {
            "bank_account_number": account_number,
            "bank_code": bank_code(channel_code),
            "given_name": given_name[:150],
            "reference_id": reference_id,
        }
        response = self._call("POST", self.PATH, json=body)
        if response.status_code in (200, 201):
            return _check(self._json(response))
        code, message = self._error(response)
        if code in OUR_PROBLEMS or code in DUPLICATE_ERRORS or response.status_code in (404, 409):
            raise GatewayError(f"name inquiry: HTTP {response.status_code} {code}: {message}")
        if 400 <= response.status_code < 500:
            raise GatewayRefused(code, message)
        raise GatewayError(f"name inquiry: {code} {message}")

    def get_check(self, check_id: str):
        if not isinstance(check_id, str) or not _ID.fullmatch(check_id):
            raise GatewayError("name inquiry: malformed id")
        response = self._call("GET", f"{self.PATH}/{quote(check_id, safe='')}")
        if response.status_code == 200:
            return _check(self._json(response))
        code, message = self._error(response)
        if response.status_code in (400, 404) and code not in OUR_PROBLEMS:
            # The gateway does not know this request (any more): ask anew.
            return AccountCheck(id=check_id, reference_id="", status="UNKNOWN", failure_code=code)
        raise GatewayError(f"name inquiry {check_id}: {code} {message}")
