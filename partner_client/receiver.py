"""A partner's webhook receiver, as small as one can be written with the
standard library: it checks each request's Standard Webhooks signature,
keeps each event once by its ``webhook-id`` (a retry of a delivered message
is answered 200 and not kept twice), and answers 2xx.

    python -m partner_client.receiver --port 8765 --secret whsec_...

For tests and the demo it can also fail its first requests or hold one."""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .client import verify_webhook


class Receiver:
    def __init__(self, secret: str = "", *, host: str = "127.0.0.1", port: int = 0, fail_first: int = 0):
        self.secret = secret
        self.fail_first = fail_first
        self.hold_first_seconds = 0.0
        self.requests: list[dict] = []  # every request as it came: headers, verified?
        self.events: dict[str, dict] = {}  # each event once, by webhook-id
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}/webhooks/prakerja"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:
                    number = len(receiver.requests)
                    entry = {
                        "webhook-id": headers.get("webhook-id"),
                        "headers": headers,
                        "body": body,
                        "verified": False,
                    }
                    receiver.requests.append(entry)
                if number == 0 and receiver.hold_first_seconds:
                    time.sleep(receiver.hold_first_seconds)
                if number < receiver.fail_first:
                    return self._answer(500)
                try:
                    event = verify_webhook(receiver.secret, headers, body)
                except ValueError:
                    return self._answer(401)
                entry["verified"] = True
                with receiver._lock:
                    receiver.events.setdefault(headers["webhook-id"], event)
                self._answer(204)

            def _answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    receiver = Receiver(args.secret, port=args.port).start()
    print(f"receiving on {receiver.url}", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            events = list(receiver.events.values())
            for event in events[seen:]:
                print(json.dumps(event), flush=True)
            seen = len(events)
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
