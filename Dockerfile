# One image for the web (gunicorn), the Celery worker and Celery beat; see
# docker-compose.yml. Build: docker compose build (or docker build -t prakerja .)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# GNU gettext for compilemessages, Tesseract (with Indonesian) for the KTP's NIK. No libpq: psycopg[binary] ships its own.
# Unpinned: the base image's Debian release fixes gettext's version.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gettext tesseract-ocr tesseract-ocr-ind \
    && rm -rf /var/lib/apt/lists/*

# The application runs as this unprivileged user; it owns only /app/var.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app

WORKDIR /app

COPY requirements.txt requirements-nodeps.txt ./
RUN pip install -r requirements.txt && pip install --no-deps -r requirements-nodeps.txt

COPY . .

# Translations: locale/*.po -> .mo (local .mo files are kept out by .dockerignore).
RUN python manage.py compilemessages --ignore=.venv -v 0

# Static files, collected and compressed for whitenoise into /app/staticfiles.
# Production settings refuse to load without secrets, so this one command gets
# throwaway values. They are BUILD-ONLY, exist for this RUN line alone, are not
# kept in the image's environment, and are never used to encrypt or sign
# anything: collectstatic touches neither the database nor the broker. The
# real values come from .env at run time (see .env.example).
RUN PRAKERJA_ENV=production \
    DJANGO_SECRET_KEY=build-only-not-a-secret-collectstatic-needs-no-real-key-0123456789 \
    FIELD_ENCRYPTION_KEYS=qRi3iTIpoiGl6qxG_aQU4GhFoVSNzfCLCWCFOFUgCMg= \
    BLIND_INDEX_KEY=build-only-not-a-secret-blind-index-key \
    DATABASE_URL=postgres://build/none \
    CELERY_BROKER_URL=redis://build:6379/0 \
    STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput -v 0

# Writable state: private media (identity documents, CSV batches) and the
# beat schedule live in volumes mounted under /app/var. Creating the mount
# points here, owned by app, gives fresh named volumes that ownership.
RUN mkdir -p /app/var/private /app/var/beat \
    && chown -R app:app /app/var

# Numeric, so that runtimes can verify it is not root (runAsNonRoot).
USER 10001:10001

EXPOSE 8000

CMD ["gunicorn", "-c", "gunicorn.conf.py"]
