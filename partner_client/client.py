"""The client: signing, idempotency keys, retries, one method per operation.

Every request is signed: ``X-Signature`` is the hex HMAC-SHA256, under the
signing key, of ``client code \\n timestamp \\n nonce \\n METHOD \\n
path?query \\n`` followed by the raw body. Each send is signed anew with a
new ``X-Nonce`` (a nonce is accepted once). Every POST carries an ``Idempotency-Key``; a retry after a timeout,
a 5xx, a 429 or a 409 ``idempotency_in_progress`` reuses it, so the
operation happens once however often it is sent.
"""

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

RETRIED_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body) if self.body else None


class ApiError(Exception):
    """A refusal: the HTTP status, the stable ``code``, the message and any
    field errors, as the API sent them."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def sign(secret: str, client_code: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    message = f"{client_code}\n{timestamp}\n{nonce}\n{method.upper()}\n{path}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, headers: dict, body: bytes, *, tolerance: int = 300, now: float | None = None) -> dict:
    """Checks a webhook signed as Standard Webhooks (``webhook-id``,
    ``webhook-timestamp``, ``webhook-signature: v1,<base64>``) under the
    endpoint's ``whsec_`` secret and returns the event; raises ValueError."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp = lowered.get("webhook-id", ""), lowered.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit():
        raise ValueError("missing webhook-id or webhook-timestamp")
    if abs((now or time.time()) - int(stamp)) > tolerance:
        raise ValueError("webhook-timestamp outside the tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
    for candidate in lowered.get("webhook-signature", "").split():
        version, _sep, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return json.loads(body)
    raise ValueError("no valid signature")


def keepalive_transport(timeout: float = 30.0) -> Callable:
    """Sends over one kept-alive connection per host and thread (http.client),
    opened again when the server has closed it."""
    local = threading.local()

    def send(method: str, url: str, headers: dict, body: bytes) -> Reply:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("https", "http"):
            raise ValueError("the base URL is http(s)")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connections = local.__dict__.setdefault("connections", {})
        for attempt in range(2):
            connection = connections.get(parts.netloc)
            if connection is None:
                kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
                connection = connections[parts.netloc] = kind(parts.netloc, timeout=timeout)
            try:
                connection.request(method, target, body=body or None, headers=headers)
                response = connection.getresponse()
                return Reply(response.status, dict(response.getheaders()), response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                del connections[parts.netloc]
                if attempt:
                    raise
        raise AssertionError("unreachable")

    return send


def urllib_transport(timeout: float = 30.0) -> Callable:
    def send(method: str, url: str, headers: dict, body: bytes) -> Reply:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the base URL is http(s)")
        request = urllib.request.Request(url, data=body or None, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (our base URL)
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    return send


@dataclass
class PartnerClient:
    base_url: str
    client_code: str
    secret: str
    language: str = "en"
    retries: int = 3
    transport: Callable = field(default_factory=keepalive_transport)
    sleep: Callable[[float], None] = time.sleep

    # ------------------------------------------------------------ transport

    def request(self, method: str, path: str, *, payload=None, files=None, params=None, idempotency_key=None):
        """Sends one operation (retried with the same Idempotency-Key) and
        returns its JSON, or raises ApiError."""
        if params:
            query = {name: value for name, value in params.items() if value is not None}
            path = f"{path}?{urllib.parse.urlencode(query)}" if query else path
        headers = {"Accept": "application/json", "Accept-Language": self.language}
        body = b""
        if files is not None:
            body, content_type = _multipart(files)
            headers["Content-Type"] = content_type
        elif payload is not None:
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        for attempt in range(self.retries + 1):
            stamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
            signed = {
                **headers,
                "X-Client-Code": self.client_code,
                "X-Timestamp": stamp,
                "X-Nonce": nonce,
                "X-Signature": sign(self.secret, self.client_code, stamp, nonce, method, path, body),
            }
            try:
                reply = self.transport(method, self.base_url.rstrip("/") + path, signed, body)
            except OSError:
                if attempt == self.retries:
                    raise
                self.sleep(2**attempt)
                continue
            data = reply.json() if reply.body else None
            busy = reply.status == 409 and (data or {}).get("error", {}).get("code") == "idempotency_in_progress"
            if (reply.status in RETRIED_STATUSES or busy) and attempt < self.retries:
                self.sleep(min(30.0, float(_header(reply.headers, "Retry-After") or 2**attempt)))
                continue
            if reply.status >= 400:
                error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
                raise ApiError(reply.status, error.get("code", "error"), error.get("message", ""), error.get("fields"))
            return data
        raise AssertionError("unreachable")

    def _pages(self, path: str, params: dict) -> Iterator[dict]:
        """Every item of a list, following its cursor."""
        data = self.request("GET", path, params=params)
        while True:
            yield from data["results"]
            if not data.get("next"):
                return
            parts = urllib.parse.urlsplit(data["next"])
            data = self.request("GET", f"{parts.path}?{parts.query}")

    # ---------------------------------------------------------- operations

    def whoami(self) -> dict:
        return self.request("GET", "/api/v1/whoami")

    def courses(self, institution: int | None = None) -> Iterator[dict]:
        return self._pages("/api/v1/courses", {"institution": institution})

    def course(self, course_id: int) -> dict:
        return self.request("GET", f"/api/v1/courses/{course_id}")

    def submit_course(self, *, institution_id: int, idempotency_key=None, **content) -> dict:
        """A new course of an institution the platform sells for, to curation."""
        payload = {"institution_id": institution_id, **content}
        return self.request("POST", "/api/v1/courses", payload=payload, idempotency_key=idempotency_key)

    def submit_version(self, course_id: int, idempotency_key=None, **content) -> dict:
        path = f"/api/v1/courses/{course_id}/versions"
        return self.request("POST", path, payload=content, idempotency_key=idempotency_key)

    def versions(self, course_id: int) -> list[dict]:
        """Every version of a course with its curation decisions."""
        return self.request("GET", f"/api/v1/courses/{course_id}/versions")

    def send_otp(self, *, card_number, platform_user_id, course_id, schedule_code, amount, idempotency_key=None):
        payload = {
            "card_number": card_number,
            "platform_user_id": platform_user_id,
            "course_id": course_id,
            "schedule_code": schedule_code,
            "amount": amount,
        }
        return self.request("POST", "/api/v1/purchases/send-otp", payload=payload, idempotency_key=idempotency_key)

    def authorize(self, *, payment_token, otp, invoice_code, invoice_url, idempotency_key=None) -> dict:
        payload = {"payment_token": payment_token, "otp": otp, "invoice_code": invoice_code, "invoice_url": invoice_url}
        return self.request("POST", "/api/v1/purchases/authorize", payload=payload, idempotency_key=idempotency_key)

    def purchase(self, invoice_code: str) -> dict:
        return self.request("GET", f"/api/v1/purchases/{urllib.parse.quote(invoice_code)}")

    def void(self, invoice_code: str, idempotency_key=None) -> dict:
        path = f"/api/v1/purchases/{urllib.parse.quote(invoice_code)}/void"
        return self.request("POST", path, idempotency_key=idempotency_key)

    def orders(self, status: str | None = None) -> Iterator[dict]:
        return self._pages("/api/v1/orders", {"status": status})

    def voucher(self, voucher_code: str) -> dict:
        return self.request("GET", f"/api/v1/vouchers/{urllib.parse.quote(voucher_code)}")

    def redeem(self, voucher_code: str, idempotency_key=None) -> dict:
        path = f"/api/v1/vouchers/{urllib.parse.quote(voucher_code)}/redeem"
        return self.request("POST", path, idempotency_key=idempotency_key)

    def complete(self, enrollment_id: int, certificate: bytes, filename: str, idempotency_key=None) -> dict:
        path = f"/api/v1/enrollments/{enrollment_id}/completion"
        return self.request(
            "POST", path, files={"certificate": (filename, certificate)}, idempotency_key=idempotency_key
        )

    def enrollments(self, status: str | None = None) -> Iterator[dict]:
        return self._pages("/api/v1/enrollments", {"status": status})

    def request_attendance(self, enrollment_id: int, sequence: int, idempotency_key=None) -> dict:
        """A one-time link (``url``) to send the participant to for the face
        check before session ``sequence`` (999: the post-test)."""
        path = f"/api/v1/enrollments/{enrollment_id}/attendance"
        return self.request("POST", path, payload={"sequence": sequence}, idempotency_key=idempotency_key)

    def attendance(self, enrollment_id: int) -> list[dict]:
        return self.request("GET", f"/api/v1/enrollments/{enrollment_id}/attendance")

    def statements(self) -> Iterator[dict]:
        """Payouts of the client's enrolments, batch by batch."""
        return self._pages("/api/v1/statements", {})

    def set_webhook(self, url: str, rotate_secret: bool = False) -> dict:
        """Sets the endpoint; ``secret`` in the answer when it is new."""
        payload = {"url": url, "rotate_secret": rotate_secret}
        return self.request("PUT", "/api/v1/webhooks/endpoint", payload=payload)

    def webhook_messages(self, status: str | None = None) -> Iterator[dict]:
        return self._pages("/api/v1/webhooks/messages", {"status": status})

    def redeliver(self, msg_id: str, idempotency_key=None) -> dict:
        path = f"/api/v1/webhooks/messages/{urllib.parse.quote(msg_id)}/redeliver"
        return self.request("POST", path, idempotency_key=idempotency_key)


def _header(headers: dict, name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _multipart(files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
