import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prakerja.logging import RedactIdentityNumbers, redact


def test_sixteen_digit_numbers_never_reach_a_log_line(caplog):
    logger = logging.getLogger("tests.redaction")
    handler_filter = RedactIdentityNumbers()
    caplog.handler.addFilter(handler_filter)
    try:
        logger.warning("registration refused for %s on KK %s", "3273015708950001", "3273010101990001")
        logger.warning("phone +6281234567890, amount 1000000, id 123")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert "3273015708950001" not in caplog.text and "3273010101990001" not in caplog.text
    assert caplog.text.count("[REDACTED]") == 2
    assert "+6281234567890" in caplog.text and "1000000" in caplog.text


@pytest.mark.parametrize(
    "line",
    [
        'GET /admin/?q=3273-0145-0899-0001 HTTP/1.1" 200',
        "GET /admin/?q=3273+0145+0899+0001 HTTP/1.1",
        "GET /admin/?q=3273%200145%200899%200001 HTTP/1.1",
        "nik 3273.0145.0899.0001 refused",
        "GET /admin/?q=3273/0145/0899/0001 HTTP/1.1",
        "GET /admin/?q=3273%2F0145%2F0899%2F0001 HTTP/1.1",
        "q=3273_0145_0899_0001&o=1",
        "q=3273,0145,0899,0001",
        "nik:3273 / 0145 / 0899 / 0001",
        "NIK3273014508990001 then 7",
        "refused 3273-0145-0899-0001 1 time",
        "line one 3273014508990001\nline two",
        "row 5: 3273 0145 0899 0001 refused",
        "GET /x?q=3273+0145+0899+0001+1 HTTP/1.1",
    ],
)
def test_numbers_typed_with_separators_are_redacted_too(line):
    assert redact(line).count("[REDACTED]") == 1
    assert "0899" not in redact(line)


def test_other_numbers_are_left_alone():
    for text in (
        "took 1.6123456789012345s",
        "2026-11-22 17:41:53,194",
        "+6281234567890",
        "12345678901234567",
        "payout 12 of batch 7, Rp 950000",
    ):
        assert redact(text) == text


def test_the_project_logging_config_redacts():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('accounts').warning('lookup of %s failed', '3273015708950001'); "
        "logging.getLogger('django.request').error('bad request for nik=3273015708950001')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "prakerja.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "lookup of [REDACTED] failed" in result.stderr
    assert "bad request for nik=[REDACTED]" in result.stderr
    assert "3273015708950001" not in result.stderr + result.stdout
