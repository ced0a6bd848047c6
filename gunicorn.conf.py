"""Gunicorn settings for production (the Docker image's default command).

Every value can be changed through the environment (GUNICORN_*), and the
command line still wins over this file. Logging goes to stdout and stderr
through ``prakerja.logging.RedactIdentityNumbers``, so that a NIK or KK number
in a URL, a referrer or an error message never reaches a log.
"""

import os

from prakerja.logging import RedactIdentityNumbers, RedactingFormatter


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cores() -> int:
    # The CPUs this process may use (a container's cpuset), not the host's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "prakerja.wsgi:application"

# Inside the container gunicorn listens on every interface; docker-compose.yml
# publishes the port on the host's loopback only, for the TLS proxy.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# 2 x cores + 1, but no more than 8 processes by default: each holds a
# Django instance and, with threads, several database connections.
workers = _env_int("GUNICORN_WORKERS", min(2 * _cores() + 1, 8))
# More than one thread makes gunicorn use its gthread worker: slow uploads
# (registration CSV batches) then do not hold a whole process.
threads = _env_int("GUNICORN_THREADS", 2)
timeout = _env_int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, staggered, to bound slow memory growth.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# The heartbeat file on a tmpfs: on a container's overlay filesystem it can
# block workers (see gunicorn's FAQ on blocking os.fchmod).
# gunicorn creates that file with mkstemp, so a shared directory is safe.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Addresses allowed to set X-Forwarded-Proto and friends. Gunicorn's own
# FORWARDED_ALLOW_IPS variable is honoured; "*" only where nothing but the
# proxy can reach gunicorn (docker-compose.yml sets that up).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logging. Access log to stdout, error log to stderr, both through the
# identity-number filter. The access message is access_log_format % atoms;
# the filter renders it with record.getMessage() before masking, so the
# request line, referrer and user agent are all covered.
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


# gunicorn merges this into glogging.CONFIG_DEFAULTS with a shallow update,
# so every top-level key given here replaces the default one whole.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_identity": {"()": RedactIdentityNumbers},
    },
    "formatters": {
        "generic": {
            "()": RedactingFormatter,
            "fmt": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
            "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
        },
        "access": {
            "()": RedactingFormatter,
            "fmt": "%(message)s",
        },
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["redact_identity"],
            "stream": "ext://sys.stderr",
        },
        "access_console": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "filters": ["redact_identity"],
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["error_console"],
            "propagate": False,
            "qualname": "gunicorn.error",
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["access_console"],
            "propagate": False,
            "qualname": "gunicorn.access",
        },
    },
}
