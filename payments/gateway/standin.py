"""A local stand-in for Xendit's Payouts API v2, on loopback, for the demo
and the tests: the same paths, headers, bodies and webhooks as xendit.py
expects, and behaviours to order.

Behaviour, per account number or for all (``POST /_standin/mode`` with
``{"mode": ..., "account_number": optional, "failure_code": optional,
"delay": seconds}``):

- ``succeed`` (default): ACCEPTED, then SUCCEEDED and a ``payout.succeeded``
  webhook;
- ``fail``: ACCEPTED, then FAILED with ``failure_code`` (INVALID_DESTINATION
  by default) and a ``payout.failed`` webhook;
- ``refuse``: 400 ``failure_code`` (API_VALIDATION_ERROR by default) at
  creation, nothing created;
- ``error``: 500 at creation, nothing created;
- ``timeout``: the payout IS created, but the answer comes after ``delay``
  seconds (longer than the client waits): a lost response;
- ``slow``: answers normally after ``delay`` seconds;
- ``twice``: the webhook is sent twice;
- ``no_webhook``: the payout succeeds but no webhook is sent (only polling
  finds out).

``GET /_standin/payouts`` lists every payout with how many create requests
named it, so tests can check that each was paid exactly once.

The name inquiry (``/v2/identity/bank_account_data_requests``): by default
every account is found and held in the name asked about (upper case, as
banks keep it). ``POST /_standin/holders`` with ``{"account_number": ...,
"holder_name": "..."}`` gives an account another holder, ``"holder_name":
null`` makes it unknown to the bank, and ``"mode"`` ``pending`` (COMPLETED
only when asked again), ``failed`` (FAILED with ``failure_code``), ``refuse`` (400 ``failure_code``, by default
``BANK_CODE_NOT_SUPPORTED``) or ``error`` (500) steer its answer.
"""

import base64
import itertools
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_ids = itertools.count(1)


def _public(check: dict) -> dict:
    return {k: v for k, v in check.items() if not k.startswith("_")}


class StandinGateway:
    def __init__(self, *, secret_key: str, callback_token: str, webhook_url: str = "", host="127.0.0.1", port=0):
        self.secret_key = secret_key
        self.callback_token = callback_token
        self.webhook_url = webhook_url
        self.lock = threading.Lock()
        self.payouts: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.create_requests: dict[str, int] = {}
        self.modes: dict[str, dict] = {}
        self.default_mode = {"mode": "succeed"}
        self.webhooks_sent: list[dict] = []
        self.holders: dict[str, dict] = {}
        self.checks: dict[str, dict] = {}
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                gateway._handle(self, "POST")

            def do_GET(self):
                gateway._handle(self, "GET")

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StandinGateway":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ----------------------------------------------------------------- HTTP

    def _reply(self, handler, status: int, body) -> None:
        data = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the timeout behaviour)

    def _authorised(self, handler) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        return handler.headers.get("Authorization", "") == expected

    def _handle(self, handler, method: str) -> None:
        url = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        if url.path.startswith("/_standin/"):
            return self._control(handler, method, url.path, raw)
        if not self._authorised(handler):
            return self._reply(handler, 401, {"error_code": "INVALID_API_KEY", "message": "API key is invalid"})
        if method == "POST" and url.path == "/v2/payouts":
            return self._create(handler, raw)
        if url.path.startswith("/v2/identity/bank_account_data_requests"):
            return self._name_inquiry(handler, method, url.path, raw)
        if method == "GET" and url.path == "/v2/payouts":
            reference = parse_qs(url.query).get("reference_id", [""])[0]
            with self.lock:
                found = [p for p in self.payouts.values() if p["reference_id"] == reference]
            return self._reply(handler, 200, found)
        if method == "GET" and url.path.startswith("/v2/payouts/"):
            with self.lock:
                payout = self.payouts.get(url.path.rsplit("/", 1)[-1])
            if payout is None:
                return self._reply(handler, 404, {"error_code": "DATA_NOT_FOUND", "message": "Payout not found"})
            return self._reply(handler, 200, payout)
        return self._reply(handler, 404, {"error_code": "NOT_FOUND", "message": "No such endpoint"})

    def _control(self, handler, method, path, raw) -> None:
        if method == "POST" and path == "/_standin/mode":
            spec = json.loads(raw or b"{}")
            account = spec.pop("account_number", None)
            with self.lock:
                if account:
                    self.modes[account] = spec
                else:
                    self.default_mode = spec
            return self._reply(handler, 200, {"ok": True})
        if method == "POST" and path == "/_standin/holders":
            spec = json.loads(raw or b"{}")
            with self.lock:
                self.holders[str(spec.pop("account_number"))] = spec
            return self._reply(handler, 200, {"ok": True})
        if method == "GET" and path == "/_standin/checks":
            with self.lock:
                listing = [_public(c) for c in self.checks.values()]
            return self._reply(handler, 200, listing)
        if method == "GET" and path == "/_standin/payouts":
            with self.lock:
                listing = [
                    {**p, "create_requests": self.create_requests.get(p["reference_id"], 0)}
                    for p in self.payouts.values()
                ]
            return self._reply(handler, 200, listing)
        return self._reply(handler, 404, {"error_code": "NOT_FOUND", "message": "No such control"})

    def _create(self, handler, raw: bytes) -> None:
        key = handler.headers.get("Idempotency-key", "")
        try:
            body = json.loads(raw)
            props = body["channel_properties"]
            payout_fields = {
                "reference_id": str(body["reference_id"]),
                "channel_code": str(body["channel_code"]),
                "account_number": str(props["account_number"]),
                "account_holder_name": str(props["account_holder_name"]),
                "amount": int(body["amount"]),
                "currency": str(body["currency"]),
            }
        except (ValueError, KeyError, TypeError):
            return self._reply(handler, 400, {"error_code": "API_VALIDATION_ERROR", "message": "Invalid request"})
        if not key:
            return self._reply(
                handler, 400, {"error_code": "API_VALIDATION_ERROR", "message": "Idempotency-key missing"}
            )
        with self.lock:
            self.create_requests[payout_fields["reference_id"]] = (
                self.create_requests.get(payout_fields["reference_id"], 0) + 1
            )
            spec = self.modes.get(payout_fields["account_number"], self.default_mode)
            if key in self.by_key:
                return self._reply(
                    handler,
                    409,
                    {"error_code": "DUPLICATE_ERROR", "message": "Idempotency key has been used before"},
                )
        mode = spec.get("mode", "succeed")
        if mode == "refuse":
            code = spec.get("failure_code", "API_VALIDATION_ERROR")
            return self._reply(handler, 400, {"error_code": code, "message": "Refused by the stand-in"})
        if mode == "error":
            return self._reply(handler, 500, {"error_code": "SERVER_ERROR", "message": "Stand-in server error"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        payout = {"id": f"disb-standin-{next(_ids):08d}", **payout_fields, "status": "ACCEPTED", "created": now}
        with self.lock:
            if key in self.by_key:  # a concurrent duplicate won the race
                return self._reply(handler, 409, {"error_code": "DUPLICATE_ERROR", "message": "used"})
            self.by_key[key] = payout["id"]
            self.payouts[payout["id"]] = payout
        threading.Thread(target=self._settle, args=(payout["id"], spec), daemon=True).start()
        if mode in ("timeout", "slow"):
            time.sleep(float(spec.get("delay", 5)))
        return self._reply(handler, 200, dict(payout))

    # ---------------------------------------------------------- name inquiry

    def _name_inquiry(self, handler, method: str, path: str, raw: bytes) -> None:
        if method == "GET":
            with self.lock:
                check = self.checks.get(path.rsplit("/", 1)[-1])
                if check is not None and check["status"] == "PENDING":
                    self._complete(check)
            if check is None:
                return self._reply(handler, 404, {"error_code": "DATA_NOT_FOUND", "message": "Request not found"})
            return self._reply(handler, 200, _public(check))
        try:
            body = json.loads(raw)
            number = str(body["bank_account_number"])
            fields = {
                "bank_account_number": number,
                "bank_code": str(body["bank_code"]),
                "given_name": str(body.get("given_name", "")),
                "reference_id": str(body.get("reference_id", "")),
            }
        except (ValueError, KeyError, TypeError):
            return self._reply(handler, 400, {"error_code": "API_VALIDATION_ERROR", "message": "Invalid request"})
        with self.lock:
            spec = dict(self.holders.get(number, {}))
        mode = spec.get("mode", "")
        if mode == "refuse":
            code = spec.get("failure_code", "BANK_CODE_NOT_SUPPORTED")
            return self._reply(handler, 400, {"error_code": code, "message": "Refused by the stand-in"})
        if mode == "error":
            return self._reply(handler, 500, {"error_code": "SERVER_ERROR", "message": "Stand-in server error"})
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        check = {"id": f"bknv-standin-{next(_ids):08d}", **fields, "status": "PENDING", "created": now, "_spec": spec}
        if mode == "failed":
            check.update(failure_code=spec.get("failure_code", "BANK_NETWORK_ERROR"))
            check["status"] = "FAILED"
        with self.lock:
            if mode not in ("pending", "failed"):
                self._complete(check)
            self.checks[check["id"]] = check
            answer = _public(check)
        return self._reply(handler, 200, answer)

    @staticmethod
    def _complete(check: dict) -> None:
        spec = check.get("_spec", {})
        holder = spec["holder_name"] if "holder_name" in spec else check["given_name"].upper()
        if holder is None:
            result = {"is_found": False, "account_holder_name": None, "name_matching_result": None}
        else:
            same = " ".join(holder.upper().split()) == " ".join(check["given_name"].upper().split())
            result = {
                "is_found": True,
                "account_holder_name": holder,
                "is_virtual_account": False,
                "name_matching_result": "MATCH" if same else "NOT_MATCH",
            }
        check["result"] = result
        check["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        check["status"] = "COMPLETED"

    # -------------------------------------------------------------- webhook

    def _settle(self, payout_id: str, spec: dict) -> None:
        time.sleep(float(spec.get("settle_after", 0.05)))
        mode = spec.get("mode", "succeed")
        with self.lock:
            payout = self.payouts[payout_id]
            if mode == "fail":
                payout["status"] = "FAILED"
                payout["failure_code"] = spec.get("failure_code", "INVALID_DESTINATION")
            else:
                payout["status"] = "SUCCEEDED"
            event = {
                "event": "payout.failed" if mode == "fail" else "payout.succeeded",
                "business_id": "standin",
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "data": dict(payout),
            }
        if mode == "no_webhook" or not self.webhook_url:
            return
        for _i in range(2 if mode == "twice" else 1):
            self._send(event)

    def _send(self, event: dict) -> None:
        request = urllib.request.Request(  # noqa: S310 - the loopback URL we were given
            self.webhook_url,
            data=json.dumps(event).encode(),
            headers={"Content-Type": "application/json", "x-callback-token": self.callback_token},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a loopback URL we were given
                status = response.status
        except OSError as exc:
            status = repr(exc)
        with self.lock:
            self.webhooks_sent.append({"event": event["event"], "id": event["data"]["id"], "status": status})
