"""Settings for the Prakerja marketplace, read from the environment.

One module for every deployment. Without any environment the project runs as
a local demo: SQLite, Celery tasks executed in-process, mail and SMS printed
to the console. Production sets ``PRAKERJA_ENV=production`` and must then
provide every secret; it refuses to start otherwise.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PRAKERJA_ENV = env.str("PRAKERJA_ENV", default="development")
if PRAKERJA_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("PRAKERJA_ENV must be development, test or production.")
PRODUCTION = PRAKERJA_ENV == "production"

DEBUG = env.bool("DJANGO_DEBUG", default=PRAKERJA_ENV == "development")

# Keys below are for the local demo and tests only: they are public, so
# production refuses them and demands its own.
_DEMO_SECRET_KEY = "demo-insecure-0r8@k3rj4-n0t-f0r-pr0duct10n-u5e-7h1s-1s-publ1c-k3y"
_DEMO_FIELD_KEY = "Tb1zQ6cDh3w3n2Jc7a0yYpcPvV0gTQ7Jk9wq0t3yYxA="
_DEMO_BLIND_INDEX_KEY = "demo-blind-index-key-not-secret-0123456789abcdef"

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEMO_SECRET_KEY)
# Fernet keys for NIK and KK at rest; the first encrypts, all decrypt, so a
# new key can be put first and the old ones kept until data is re-encrypted.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_DEMO_FIELD_KEY])
# HMAC key of the blind index (exact search and uniqueness of NIK and KK).
# Changing it means recomputing every index: see README.
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default=_DEMO_BLIND_INDEX_KEY)

if PRODUCTION:
    _problems = []
    if SECRET_KEY == _DEMO_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        _problems.append("DJANGO_SECRET_KEY must be set to a long random value")
    if _DEMO_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        _problems.append("FIELD_ENCRYPTION_KEYS must be set to your own Fernet key(s)")
    if BLIND_INDEX_KEY == _DEMO_BLIND_INDEX_KEY or len(BLIND_INDEX_KEY) < 32:
        _problems.append("BLIND_INDEX_KEY must be set to a random value of 32+ characters")
    if not env.str("DATABASE_URL", default=""):
        _problems.append("DATABASE_URL must point at PostgreSQL")
    if not env.str("CELERY_BROKER_URL", default=""):
        _problems.append("CELERY_BROKER_URL must point at Redis")
    try:
        for _key in FIELD_ENCRYPTION_KEYS:
            Fernet(_key.encode())
    except ValueError:
        _problems.append("FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key")
    if not env.str("SMS_BACKEND", default=""):
        _problems.append("SMS_BACKEND must name the SMS sender class (the console one prints codes to the log)")
    if not env.str("EMAIL_URL", default=""):
        _problems.append("EMAIL_URL must point at the mail server")
    if not env.str("XENDIT_SECRET_KEY", default="").startswith("xnd_production_"):
        _problems.append("XENDIT_SECRET_KEY must be the gateway's live secret key (xnd_production_...)")
    if len(env.str("XENDIT_CALLBACK_TOKEN", default="")) < 32:
        _problems.append("XENDIT_CALLBACK_TOKEN must be the webhook verification token from the gateway's dashboard")
    if not env.str("PAYOUT_REFERENCE_PREFIX", default=""):
        _problems.append(
            "PAYOUT_REFERENCE_PREFIX must be set, different in every environment sharing one gateway account"
        )
    if DEBUG:
        _problems.append("DJANGO_DEBUG must be off")
    if _problems:
        raise ImproperlyConfigured("Production settings refused: " + "; ".join(_problems) + ".")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "notifications",
    "accounts",
    "kyc",
    "catalog",
    "enrollment",
    "payments",
    "payouts",
    "integrity",
    "webhooks",
    "prakerja",  # no models: what spans the apps (the demo loader, shared admin and web helpers)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "prakerja.db.ReplicaPinningMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "prakerja.middleware.LanguageMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "integrity.devices.DeviceCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "prakerja.middleware.IdentityNumbersOutOfUrlsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the security headers (its page carries them), before the views' work.
    "prakerja.waiting_room.WaitingRoomMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.mfa.StaffSecondFactorMiddleware",
    "prakerja.web.DomainErrorMiddleware",
]

ROOT_URLCONF = "prakerja.urls"
WSGI_APPLICATION = "prakerja.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "prakerja.web.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's processes (the server, the partner API demo, the gateway's
    # webhooks) write at once: each write transaction takes the lock at its
    # start and waits for it, instead of failing when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# The waiting room (prakerja/waiting_room.py): how many people may be on the
# sign-up and registration pages at once (measured by the sign-up benchmark),
# each for how long after their last request there.
WAITING_ROOM_ENABLED = env.bool("WAITING_ROOM_ENABLED", default=True)
WAITING_ROOM_CAPACITY = env.int("WAITING_ROOM_CAPACITY", default=2000)
WAITING_ROOM_ADMIT_SECONDS = env.int("WAITING_ROOM_ADMIT_SECONDS", default=600)
WAITING_ROOM_STALE_SECONDS = env.int("WAITING_ROOM_STALE_SECONDS", default=60)
WAITING_ROOM_REFRESH_SECONDS = env.int("WAITING_ROOM_REFRESH_SECONDS", default=15)
WAITING_ROOM_PATHS = ("/akun/signup/", "/peserta/daftar/")
WAITING_ROOM_KEY_PREFIX = env.str("WAITING_ROOM_KEY_PREFIX", default="prakerja:waiting-room")

# A read replica for the catalog's reads (prakerja/db.py): a streaming
# replica of the primary in production. The tests use a second database on
# the same server (tests/env.py), read from only by the test that turns
# CATALOG_READS_FROM_REPLICA on.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
CATALOG_READS_FROM_REPLICA = env.bool("CATALOG_READS_FROM_REPLICA", default="replica" in DATABASES)
REPLICA_APPS = frozenset({"catalog"})
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)  # longer than the replica's usual lag
DATABASE_ROUTERS = ["prakerja.db.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first (prakerja/hashers.py); PBKDF2 still verifies older hashes,
# which are upgraded to Argon2id at the next log-in.
PASSWORD_HASHERS = [
    "prakerja.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
if PRAKERJA_ENV == "test":
    # Hashing at full strength makes every test login cost tens of ms; the
    # hashing tests put the real list back.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# The partner API (/api/v1/): signed requests only (prakerja.api.auth), one
# error shape, JSON in and out.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["prakerja.api.auth.SignedRequestAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["prakerja.api.permissions.SignedClient"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "prakerja.api.views.error_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["prakerja.api.throttling.ClientRateThrottle"],
    # Per client code, in the shared cache (Redis): past it, 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {"client": env.str("API_RATE_PER_CLIENT", default="1200/min")},
}
# Webhooks to partners (webhooks.services): https only and never to a
# private or loopback address in production; the demo's local receiver
# listens on loopback. An attempt holds its message for the lease, which
# outlasts the timeout.
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=PRODUCTION)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=not PRODUCTION)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
if PRODUCTION and (WEBHOOK_ALLOW_PRIVATE_HOSTS or not WEBHOOK_REQUIRE_HTTPS):
    raise ImproperlyConfigured("production webhooks go over https to public addresses only")
# The largest JSON body the partner API reads (a multipart upload may carry
# a certificate of CERTIFICATE_MAX_BYTES).
API_MAX_JSON_BYTES = 64 * 1024
# The published contract (/api/v1/schema) and its docs page, from our own
# static files (drf-spectacular-sidecar), no CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Kartu Prakerja partner API",
    "DESCRIPTION": "How digital platforms sell courses and training institutions deliver them. "
    "Signing, idempotency, errors and webhooks: the developer guide at /api/v1/guide.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The API's own path converters (prakerja.api.converters).
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        "code": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
    },
}

# Second factor (allauth.mfa): every staff account has an authenticator app
# (TOTP) and recovery codes before it reaches admin (accounts.mfa).
MFA_ADAPTER = "accounts.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Kartu Prakerja"
# One 30-second step either side (RFC 6238's allowance for a phone's clock
# and the time to type); each code still works once.
MFA_TOTP_TOLERANCE = 1

# django-allauth: email is the login, verified before first use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# Setting a password from the emailed link signs the person in (and proves the address).
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Prakerja] "
# Sign-ups per IP address (allauth's default 20 a minute). Behind a mobile
# carrier's shared addresses (CGNAT) many people share one IP: on
# registration day the waiting room, not this, is what meters them.
ACCOUNT_RATE_LIMITS = {"signup": env.str("SIGNUP_RATE_LIMIT", default="20/m/ip")}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Prakerja <noreply@prakerja.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where links in emails and SMS point to.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
FORMAT_MODULE_PATH = ["prakerja.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Collected static files exist only where collectstatic ran (production);
# elsewhere whitenoise serves them from the apps and static/.
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles") if PRODUCTION else "") or None
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
# Identity documents and uploads: never under a public URL. Files here are
# served only by views that check who is asking.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The CSV batch of an offline registration may be large; it is streamed.
REGISTRATION_CSV_MAX_BYTES = env.int("REGISTRATION_CSV_MAX_BYTES", default=200 * 1024 * 1024)
# Rows of a CSV batch one task registers (in one transaction); the bulk
# workers take a batch's chunks side by side.
REGISTRATION_BATCH_CHUNK = env.int("REGISTRATION_BATCH_CHUNK", default=500)

# A wave's cards are issued in chunks of this many selected applications,
# each one transaction on a bulk worker (enrollment.tasks.issue_wave_cards).
CARD_ISSUE_CHUNK = env.int("CARD_ISSUE_CHUNK", default=2000)

# Celery: without a broker, tasks run in-process (the demo); with one, a
# worker runs them.
_BROKER_FROM_ENV = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = _BROKER_FROM_ENV or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not _BROKER_FROM_ENV)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="prakerja")
# Work is split into queues by kind, each with its own workers
# (docker-compose.yml), so a bulk job never delays a one-time code: each
# queue is the default queue's name with the kind after a dot. Whatever is
# not named here runs on the default queue (housekeeping, webhooks).
TASK_QUEUES = {
    "messages": [  # one-time codes, SMS and email: seconds matter
        "notifications.tasks.*",
        "accounts.tasks.send_offline_welcome",
        "kyc.tasks.send_kyc_decision",
        "enrollment.tasks.send_deadline_reminder",
        "enrollment.tasks.send_card_revoked",
        "payouts.tasks.notify_payout_failed",
    ],
    "identity": ["kyc.tasks.run_kyc_check", "enrollment.tasks.run_attendance_check"],  # face checks, CPU-bound
    "bulk": [  # draws, card issuing, CSV batches, list imports, re-screens, scans
        "enrollment.tasks.run_wave_draw",
        "enrollment.tasks.issue_wave_cards",
        "enrollment.tasks.issue_card_chunk",
        "enrollment.tasks.notify_wave_result",
        "accounts.tasks.process_registration_batch",
        "accounts.tasks.process_registration_chunk",
        "accounts.tasks.requeue_stale_batch_chunks",
        "accounts.tasks.import_exclusion_list",
        "kyc.tasks.import_registry_extract",
        "kyc.tasks.purge_kyc_photos",
        "integrity.tasks.*",
        "payouts.tasks.reconcile_batch",
    ],
    "payouts": [  # money out through the gateway
        "payouts.tasks.disburse_batch",
        "payouts.tasks.send_payout",
        "payouts.tasks.poll_payouts",
        "payouts.tasks.pay_participant_incentives",
        "payouts.tasks.pay_incentives",
        "payouts.tasks.check_incentive_account",
        "payouts.tasks.check_incentive_accounts",
    ],
}
# A worker started without -Q (development) takes every queue; the
# deployment's workers each take one (docker-compose.yml).
CELERY_TASK_QUEUES = [
    Queue(name)
    for name in [CELERY_TASK_DEFAULT_QUEUE, *(f"{CELERY_TASK_DEFAULT_QUEUE}.{kind}" for kind in TASK_QUEUES)]
]
CELERY_TASK_ROUTES = {
    pattern: {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}.{kind}"}
    for kind, patterns in TASK_QUEUES.items()
    for pattern in patterns
}
# Redis redelivers a task nobody acknowledged after this many seconds (the
# worker died): longer than any task runs, or a slow task would run twice at
# once. README "Background jobs" says why these settings are what they are.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 60 * 60),
    # How often a worker sweeps for such tasks: every interval x throttle
    # seconds (kombu's defaults, 10 x 10). The worker test shortens both.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_TIMEZONE = TIME_ZONE
# Keep Django's logging (and its identity-number redaction) in workers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "kyc-purge-photos": {
        "task": "kyc.tasks.purge_kyc_photos",
        "schedule": crontab(hour=2, minute=15),
    },
    "integrity-scan-completions": {
        "task": "integrity.tasks.scan_completions",
        "schedule": crontab(hour=3, minute=30),
    },
    "integrity-scan-conflicts": {
        "task": "integrity.tasks.scan_conflicts",
        "schedule": crontab(hour=3, minute=40),
    },
    "integrity-scan-links": {
        "task": "integrity.tasks.scan_links",
        "schedule": crontab(hour=3, minute=50),
    },
    "enrollment-attendance-housekeeping": {
        "task": "enrollment.tasks.attendance_housekeeping",
        "schedule": crontab(minute=40),
    },
    "accounts-requeue-stale-batch-chunks": {
        "task": "accounts.tasks.requeue_stale_batch_chunks",
        "schedule": crontab(minute="*/15"),
    },
    "kyc-requeue-stale-checks": {
        "task": "kyc.tasks.requeue_stale_kyc_checks",
        "schedule": crontab(minute="*/10"),
    },
    "enrollment-expire-vouchers": {
        "task": "enrollment.tasks.expire_vouchers",
        "schedule": crontab(minute="*/10"),
    },
    "enrollment-card-deadlines": {
        "task": "enrollment.tasks.card_deadlines",
        "schedule": crontab(minute=30),
    },
    "payouts-poll": {
        "task": "payouts.tasks.poll_payouts",
        "schedule": crontab(minute="*/5"),
    },
    "api-purge-idempotency-keys": {
        "task": "prakerja.tasks.purge_idempotency_keys",
        "schedule": crontab(minute=40),
    },
    "webhooks-deliver-due": {
        "task": "webhooks.tasks.deliver_due_webhooks",
        "schedule": crontab(minute="*"),
    },
    "notifications-requeue": {
        "task": "notifications.tasks.requeue_notifications",
        "schedule": crontab(minute="*/5"),
    },
    "payouts-incentives": {
        "task": "payouts.tasks.pay_incentives",
        "schedule": crontab(minute=45),
    },
    "payouts-check-incentive-accounts": {
        "task": "payouts.tasks.check_incentive_accounts",
        "schedule": crontab(minute="*/5"),
    },
}

# SMS: a dotted path to a class with send(to=, body=). Console in the demo,
# an in-memory store in tests.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="accounts.sms.MemorySmsSender" if PRAKERJA_ENV == "test" else "accounts.sms.ConsoleSmsSender",
)

# Outside production, a file the console sender also writes each SMS to.
SMS_COPY_FILE = env.str("SMS_COPY_FILE", default="")

# Programme rules applied at registration (DESIGN.md "Programme rules").
PRAKERJA_MIN_AGE = env.int("PRAKERJA_MIN_AGE", default=18)
PRAKERJA_MAX_PARTICIPANTS_PER_KK = env.int("PRAKERJA_MAX_PARTICIPANTS_PER_KK", default=2)

# Identity check (KYC) by face matching. Distances are Euclidean between
# face_recognition's 128-d encodings; README "Face-matching thresholds" says
# why the defaults are what they are (python manage.py kyc_calibrate).
KYC_MATCH_THRESHOLD = env.float("KYC_MATCH_THRESHOLD", default=0.45)
KYC_REJECT_THRESHOLD = env.float("KYC_REJECT_THRESHOLD", default=0.60)
KYC_DUPLICATE_THRESHOLD = env.float("KYC_DUPLICATE_THRESHOLD", default=0.45)
KYC_SAME_PHOTO_THRESHOLD = env.float("KYC_SAME_PHOTO_THRESHOLD", default=0.15)
KYC_MAX_UPLOAD_BYTES = env.int("KYC_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# A phone photo is 12 megapixels (48-50 MP sensors save 12 MP by default);
# a file declaring more than this is refused before it is decoded.
KYC_MAX_PIXELS = env.int("KYC_MAX_PIXELS", default=24_000_000)
# Longest side, in pixels, photos are scaled down to before face detection.
KYC_WORK_SIZE = env.int("KYC_WORK_SIZE", default=1024)
KYC_MAX_ATTEMPTS = env.int("KYC_MAX_ATTEMPTS", default=3)
KYC_PHOTO_RETENTION_DAYS = env.int("KYC_PHOTO_RETENTION_DAYS", default=30)
# Dotted path of the population registry client; empty for none.
KYC_REGISTRY_CLIENT = env.str("KYC_REGISTRY_CLIENT", default="kyc.registry.ImportedExtractRegistry")
# The KTP photo must be a card: its portrait no wider or taller than these
# fractions of the picture (a selfie's face is wider), and, to count as
# readable, this many of the card's printed words found by Tesseract.
KYC_CARD_MAX_FACE_WIDTH = env.float("KYC_CARD_MAX_FACE_WIDTH", default=0.2)
KYC_CARD_MAX_FACE_HEIGHT = env.float("KYC_CARD_MAX_FACE_HEIGHT", default=0.4)
KYC_CARD_MIN_WORDS = env.int("KYC_CARD_MIN_WORDS", default=2)
KYC_OCR_LANGUAGE = env.str("KYC_OCR_LANGUAGE", default="ind")
KYC_OCR_TIMEOUT_SECONDS = env.int("KYC_OCR_TIMEOUT_SECONDS", default=20)
# Submissions a participant may send a day (those refused for a file's
# fault do not use one of KYC_MAX_ATTEMPTS, so this bounds them).
KYC_MAX_SUBMISSIONS_PER_DAY = env.int("KYC_MAX_SUBMISSIONS_PER_DAY", default=10)
# Liveness at the identity check and attendance (kyc.liveness): README
# "Liveness thresholds" says why each sits where it does
# (python manage.py liveness_calibrate prints the figures).
LIVENESS_CHALLENGE_SECONDS = env.int("LIVENESS_CHALLENGE_SECONDS", default=75)
LIVENESS_FRAMES_PER_ACTION = env.int("LIVENESS_FRAMES_PER_ACTION", default=12)
LIVENESS_FRAME_INTERVAL_MS = env.int("LIVENESS_FRAME_INTERVAL_MS", default=200)
LIVENESS_MIN_FRAMES = env.int("LIVENESS_MIN_FRAMES", default=3)
LIVENESS_MAX_FRAMES = env.int("LIVENESS_MAX_FRAMES", default=24)
LIVENESS_MAX_FRAME_BYTES = env.int("LIVENESS_MAX_FRAME_BYTES", default=200_000)
# Longest side frames are measured at; the page sends them this size.
LIVENESS_FRAME_SIZE = env.int("LIVENESS_FRAME_SIZE", default=480)
# The person's open-eye EAR: this percentile of the capture's frames (eyes
# are open most of the time, and a high percentile stays put however often
# they blink).
LIVENESS_OPEN_EYE_PERCENTILE = env.float("LIVENESS_OPEN_EYE_PERCENTILE", default=75)
LIVENESS_BLINK_OPEN_RATIO = env.float("LIVENESS_BLINK_OPEN_RATIO", default=0.7)
LIVENESS_BLINK_CLOSED_RATIO = env.float("LIVENESS_BLINK_CLOSED_RATIO", default=0.65)
LIVENESS_TURN_YAW = env.float("LIVENESS_TURN_YAW", default=0.08)
LIVENESS_SAME_PERSON_THRESHOLD = env.float("LIVENESS_SAME_PERSON_THRESHOLD", default=0.55)
LIVENESS_MIN_EYE_DISTANCE = env.float("LIVENESS_MIN_EYE_DISTANCE", default=28)
LIVENESS_MIN_BOX_OVERLAP = env.float("LIVENESS_MIN_BOX_OVERLAP", default=0.3)
LIVENESS_MIN_FRAME_DIFFERENCE = env.float("LIVENESS_MIN_FRAME_DIFFERENCE", default=0.2)
# Attendance (enrollment.services.attendance): the institution's link to the
# face check is good this long, once; a webinar's check opens this early.
ATTENDANCE_LINK_MINUTES = env.int("ATTENDANCE_LINK_MINUTES", default=15)
# The completion anomaly check (integrity.services.anomalies): the days it
# looks back over, and how many completions trip a rule.
INTEGRITY_SCAN_DAYS = env.int("INTEGRITY_SCAN_DAYS", default=30)
INTEGRITY_ANOMALY_MIN = env.int("INTEGRITY_ANOMALY_MIN", default=5)
# Linked accounts (joki): a group of participants scored at least this opens
# a case per member; at the second figure the cases hold their money.
INTEGRITY_LINK_CASE_SCORE = env.int("INTEGRITY_LINK_CASE_SCORE", default=40)
INTEGRITY_LINK_HOLD_SCORE = env.int("INTEGRITY_LINK_HOLD_SCORE", default=70)
# A browser, phone or account shared by more participants than this is more
# likely a public place: its group's cases are reviewed but hold no money.
INTEGRITY_LINK_WIDE = env.int("INTEGRITY_LINK_WIDE", default=50)
ATTENDANCE_OPENS_MINUTES = env.int("ATTENDANCE_OPENS_MINUTES", default=15)
# Tests fix the challenge to the actions a recorded sequence holds; a live
# site must draw it at random.
LIVENESS_FIXED_ACTIONS = env.list("LIVENESS_FIXED_ACTIONS", default=[])
if PRODUCTION and LIVENESS_FIXED_ACTIONS:
    raise ImproperlyConfigured("LIVENESS_FIXED_ACTIONS fixes the liveness challenge: tests only")
LIVENESS_SAMPLES_DIR = Path(env.str("LIVENESS_SAMPLES_DIR", default=str(BASE_DIR.parent / "shared" / "liveness")))
# Real photos for the KYC tests and calibration (../shared/faces).
# The built approximate face index (manage.py face_index_build), memory-mapped
# by every process; empty: the 1:N search is exact over every template.
FACE_INDEX_PATH = Path(env.str("FACE_INDEX_PATH")) if env.str("FACE_INDEX_PATH", default="") else None
KYC_TEST_FACES_DIR = Path(env.str("KYC_TEST_FACES_DIR", default=str(BASE_DIR.parent / "shared" / "faces")))

# Catalog: the price bounds of a course (whole rupiah) and the PostgreSQL
# text search configuration for course search.
CATALOG_MIN_PRICE = env.int("CATALOG_MIN_PRICE", default=50_000)
CATALOG_MAX_PRICE = env.int("CATALOG_MAX_PRICE", default=1_000_000)
CATALOG_SEARCH_CONFIG = env.str("CATALOG_SEARCH_CONFIG", default="indonesian")
CATALOG_PAGE_SIZE = env.int("CATALOG_PAGE_SIZE", default=20)

# Purchases (enrollment app). Per-wave rules (balance, deadlines, voucher
# validity, incentives) are set on each wave in admin.
VOUCHER_REDEEM_ATTEMPTS_PER_HOUR = env.int("VOUCHER_REDEEM_ATTEMPTS_PER_HOUR", default=60)
CERTIFICATE_MAX_BYTES = env.int("CERTIFICATE_MAX_BYTES", default=5 * 1024 * 1024)

# Payouts (payments app, issue 6): the gateway client and Xendit's
# credentials. The tests point XENDIT_BASE_URL at the local stand-in
# (payments/gateway/standin.py).
PAYOUT_GATEWAY = env.str("PAYOUT_GATEWAY", default="payments.gateway.xendit.XenditPayoutGateway")
XENDIT_BASE_URL = env.str("XENDIT_BASE_URL", default="https://api.xendit.co")
XENDIT_SECRET_KEY = env.str("XENDIT_SECRET_KEY", default="xnd_development_demo")
XENDIT_CALLBACK_TOKEN = env.str("XENDIT_CALLBACK_TOKEN", default="demo-callback-token")
XENDIT_TIMEOUT_SECONDS = env.float("XENDIT_TIMEOUT_SECONDS", default=10)
# The name inquiry before an incentive account is confirmed (issue 15).
ACCOUNT_VALIDATOR = env.str("ACCOUNT_VALIDATOR", default="payments.gateway.xendit.XenditAccountValidator")
INCENTIVE_NAME_CHECK_TRIES = env.int("INCENTIVE_NAME_CHECK_TRIES", default=3)  # requests before review
INCENTIVE_NAME_CHECK_GIVE_UP_HOURS = env.int("INCENTIVE_NAME_CHECK_GIVE_UP_HOURS", default=24)
INCENTIVE_NAME_CHECK_SWEEP = env.int("INCENTIVE_NAME_CHECK_SWEEP", default=2000)  # accounts queued per sweep
# Our payouts' reference (and idempotency key) at the gateway is
# "<prefix>-<payout id>": a prefix per environment keeps a staging database's
# payout 1 from colliding with production's on a shared gateway account.
PAYOUT_REFERENCE_PREFIX = env.str("PAYOUT_REFERENCE_PREFIX", default="prakerja")
# A send that timed out or met a 5xx is retried after base * 2^n seconds (at
# most max), up to PAYOUT_SEND_RETRIES times; after that the poller takes over.
PAYOUT_RETRY_BASE_SECONDS = env.float("PAYOUT_RETRY_BASE_SECONDS", default=30)
PAYOUT_RETRY_MAX_SECONDS = env.float("PAYOUT_RETRY_MAX_SECONDS", default=3600)
PAYOUT_SEND_RETRIES = env.int("PAYOUT_SEND_RETRIES", default=8)
# A sent payout with no webhook after this long is asked about (polling).
PAYOUT_POLL_AFTER_SECONDS = env.int("PAYOUT_POLL_AFTER_SECONDS", default=600)
# Paid surveys open this many days apart, the first with the first incentive.
INCENTIVE_SURVEY_INTERVAL_DAYS = env.int("INCENTIVE_SURVEY_INTERVAL_DAYS", default=30)

# One-time codes sent by SMS.
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=5 * 60)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_INTERVAL_SECONDS = env.int("OTP_RESEND_INTERVAL_SECONDS", default=60)
OTP_MAX_SENDS_PER_HOUR = env.int("OTP_MAX_SENDS_PER_HOUR", default=5)

# Security. Behind gunicorn and a TLS-terminating proxy in production.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page: scripts, styles, images and requests from this site only; no
# inline script or style (not even a style="" attribute), no plugins, no
# framing, forms post here only. Certificate downloads set a stricter one of
# their own (enrollment.views), which the middleware leaves alone. Browser
# tests fail on any violation (tests/browser.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the QR code of an authenticator app's set-up (allauth.mfa).
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_identity": {"()": "prakerja.logging.RedactIdentityNumbers"}},
    "formatters": {
        "plain": {
            "()": "prakerja.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_identity"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "celery": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO"), "propagate": False},
    },
}
