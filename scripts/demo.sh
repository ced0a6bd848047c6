#!/usr/bin/env bash
# Sets everything up and serves the application with demo data, on the
# embedded defaults: SQLite in var/, Celery tasks in-process, mail and SMS
# printed to this terminal. Usage: scripts/demo.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8000}

bash scripts/setup.sh
mkdir -p var
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py demo_data
cat <<TXT

  Prakerja is running at http://127.0.0.1:${port}/
  Django admin (PMO staff):  http://127.0.0.1:${port}/admin/
  Dinas operator pages:      http://127.0.0.1:${port}/dinas/
  Emails and SMS codes appear in this terminal. Stop with Ctrl+C.

TXT
exec .venv/bin/python manage.py runserver "127.0.0.1:${port}"
