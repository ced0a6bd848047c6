#!/usr/bin/env bash
# Sets everything up and serves the application with demo data, on the
# embedded defaults: SQLite in var/, Celery tasks in-process, mail and SMS
# printed to this terminal. Usage: scripts/demo.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8000}
# Links in emails (password, confirmation) point at this server's own port.
export SITE_URL="http://127.0.0.1:${port}"
# As in production: error pages in people's words, never a debug page.
export DJANGO_DEBUG=false

bash scripts/setup.sh
mkdir -p var
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py demo_data
# Payouts go to a local stand-in of the Xendit Payouts API, whose webhooks
# come back to this server; it stops with the server.
gateway_port=$((port + 765))
.venv/bin/python manage.py payout_standin --port "${gateway_port}" \
  --webhook-url "http://127.0.0.1:${port}/api/pembayaran/xendit/webhook/" &
gateway_pid=$!
trap 'kill "${gateway_pid}" 2>/dev/null || true' EXIT
export XENDIT_BASE_URL="http://127.0.0.1:${gateway_port}"
cat <<TXT

  Prakerja is running at http://127.0.0.1:${port}/
  Django admin (PMO staff):  http://127.0.0.1:${port}/admin/
  Dinas operator pages:      http://127.0.0.1:${port}/dinas/
  Payout gateway stand-in:   ${XENDIT_BASE_URL} (payouts you approve go there)
  Emails and SMS codes appear in this terminal. Stop with Ctrl+C.

TXT
.venv/bin/python manage.py runserver "127.0.0.1:${port}"
