#!/usr/bin/env bash
# Sets up and runs the whole test suite, on PostgreSQL and Redis (started
# here if they are stopped), with a real Celery worker and headless Chromium.
# Extra arguments go to pytest. Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh dev

# Debian's Chromium for the browser tests (Playwright's own download does
# not work on these machines).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Install Debian's chromium package (sudo apt-get install chromium)." >&2
    exit 1
  fi
fi

# PostgreSQL and Redis, as DESIGN.md says how to start them.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .

export PRAKERJA_ENV=test
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/prakerja}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/1}
export CELERY_BROKER_URL=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/2}
export CELERY_TASK_ALWAYS_EAGER=true
# The development database the migration check looks at (tests make their own).
createdb -h 127.0.0.1 -U postgres "${DATABASE_URL##*/}" 2>/dev/null || true
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
exec .venv/bin/python -m pytest "$@"
