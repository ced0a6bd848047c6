"""Production refuses to start on demo secrets; with real values it passes
Django's deploy checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PRAKERJA_", "DATABASE_", "CELERY_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_env(**overrides):
    env = {
        "PRAKERJA_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/prakerja",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_ALLOWED_HOSTS": "prakerja.example.id",
        "SMS_BACKEND": "accounts.sms.ConsoleSmsSender",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.id:587",
        "XENDIT_SECRET_KEY": "xnd_production_" + secrets.token_hex(20),
        "XENDIT_CALLBACK_TOKEN": secrets.token_urlsafe(36),
        "PAYOUT_REFERENCE_PREFIX": "prakerja-prod",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_production_refuses_to_start_without_a_real_secret_key():
    result = manage("check", **production_env(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_demo_encryption_keys_and_a_missing_database():
    result = manage("check", **production_env(FIELD_ENCRYPTION_KEYS=None, BLIND_INDEX_KEY=None, DATABASE_URL=None))
    assert result.returncode != 0
    for expected in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "DATABASE_URL"):
        assert expected in result.stderr


def test_production_refuses_a_bad_encryption_key_and_implicit_sms_and_mail():
    result = manage("check", **production_env(FIELD_ENCRYPTION_KEYS="not-a-key", SMS_BACKEND=None, EMAIL_URL=None))
    assert result.returncode != 0
    for expected in ("not a Fernet key", "SMS_BACKEND", "EMAIL_URL"):
        assert expected in result.stderr


def test_production_refuses_the_demo_payout_gateway_keys():
    result = manage(
        "check",
        **production_env(
            XENDIT_SECRET_KEY="xnd_development_demo",
            XENDIT_CALLBACK_TOKEN="demo-callback-token",
            PAYOUT_REFERENCE_PREFIX=None,
        ),
    )
    assert result.returncode != 0
    for expected in ("XENDIT_SECRET_KEY", "XENDIT_CALLBACK_TOKEN", "PAYOUT_REFERENCE_PREFIX"):
        assert expected in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_demo_runs_without_any_environment():
    result = manage("check")
    assert result.returncode == 0, result.stderr
