"""The locust users of bench/signup_load.py: each is a new visitor who opens
the sign-up page and, once the page is the form (not the waiting room),
signs up with a new email address, then leaves (a new visitor again)."""

import itertools
import os
import re
import time
import uuid

from locust import HttpUser, constant, task

PASSWORD = "Prakerja-Bench-2026!"
_numbers = itertools.count()
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
POLL = float(os.environ.get("BENCH_WAITING_POLL", "1"))


class Visitor(HttpUser):
    wait_time = constant(0)

    @task
    def sign_up(self):
        self.client.cookies.clear()
        started = time.perf_counter()
        while True:
            page = self.client.get("/akun/signup/", name="sign-up page")
            if 'id="waiting-room"' not in page.text:
                break
            with self.client.get("/akun/signup/", name="waiting room", catch_response=True) as again:
                if 'id="waiting-room"' not in again.text:
                    page = again
                    break
                again.success()
            time.sleep(POLL)
        token = _CSRF.search(page.text)
        if token is None:
            return
        email = f"u{next(_numbers)}-{uuid.uuid4().hex[:8]}@bench.invalid"
        data = {"csrfmiddlewaretoken": token.group(1), "email": email, "password1": PASSWORD, "password2": PASSWORD}
        with self.client.post(
            "/akun/signup/", data=data, name="sign-up", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code}")
        # Time in the system, waiting included, for the waiting-room run.
        self.environment.events.request.fire(
            request_type="FLOW",
            name="visit to signed up",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={},
        )
