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

import requests
from django.conf import settings

from . import GatewayError, GatewayPayout, GatewayRefused, PayoutRequest, WebhookRejected

DUPLICATE_ERRORS = frozenset({"DUPLICATE_ERROR", "DUPLICATE_TRANSACTION_ERROR", "IDEMPOTENCY_ERROR"})

# Answers about our own set-up or funds, not the payee's account: retrying
# (after someone fixes the key or tops up the balance) is right; failing
# the payout and blaming the payee is not.
OUR_PROBLEMS = frozenset(
    {"INVALID_API_KEY", "REQUEST_FORBIDDEN_ERROR", "INSUFFICIENT_BALANCE", "FEATURE_NOT_ACTIVATED", "NOT_FOUND"}
)


def _payout(data: dict) -> GatewayPayout:
    return GatewayPayout(
        id=str(data.get("id", "")),
        reference_id=str(data.get("reference_id", "")),
        status=str(data.get("status", "")),
        amount=int(data.get("amount") or 0),
        failure_code=str(data.get("failure_code") or ""),
        raw=data,
    )


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
    def _error(response: requests.Response) -> tuple[str, str]:
        try:
            body = response.json()
        except ValueError:
            return f"HTTP_{response.status_code}", response.text[:200]
        return str(body.get("error_code", f"HTTP_{response.status_code}")), str(body.get("message", ""))[:500]

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
            return _payout(response.json())
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
        response = self._call("GET", f"/v2/payouts/{payout_id}")
        if response.status_code != 200:
            code, message = self._error(response)
            raise GatewayError(f"get payout {payout_id}: {code} {message}")
        return _payout(response.json())

    def find_payout(self, reference_id: str) -> GatewayPayout | None:
        response = self._call("GET", "/v2/payouts", params={"reference_id": reference_id})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            code, message = self._error(response)
            raise GatewayError(f"find payout {reference_id}: {code} {message}")
        body = response.json()
        items = body if isinstance(body, list) else body.get("data", [])
        return _payout(items[0]) if items else None

    def parse_webhook(self, headers, body: bytes) -> GatewayPayout:
        token = headers.get("x-callback-token") or ""
        if not self.callback_token or not hmac.compare_digest(token.encode(), self.callback_token.encode()):
            raise WebhookRejected("callback token missing or wrong")
        try:
            event = json.loads(body)
            data = event["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("unreadable webhook") from exc
        if not isinstance(data, dict) or not data.get("id"):
            raise WebhookRejected("webhook without a payout")
        return _payout(data)
