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
# SMS codes are also copied here, so the partner API demo below can read the
# code texted to the participant who buys on a platform's own site.
export SMS_COPY_FILE="var/sms.jsonl"
.venv/bin/python manage.py runserver --noreload "127.0.0.1:${port}" &
server_pid=$!
trap 'kill "${gateway_pid}" "${server_pid}" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:${port}/healthz" 2>/dev/null && break
  sleep 0.2
done
# A platform sells a course through the partner API with the reference
# client, the institution delivers it, the PMO pays, the webhooks arrive.
.venv/bin/python manage.py partner_api_demo --base "http://127.0.0.1:${port}" \
  || echo "(the partner API demo did not finish; the site runs anyway)"
cat <<TXT

  Prakerja is running at http://127.0.0.1:${port}/
  Django admin (PMO staff):  http://127.0.0.1:${port}/admin/
  Dinas operator pages:      http://127.0.0.1:${port}/dinas/
  Payout gateway stand-in:   ${XENDIT_BASE_URL} (payouts you approve go there)
  Partner API guide:         http://127.0.0.1:${port}/pengembang/api/ (docs: /api/v1/docs)
  Emails and SMS codes appear in this terminal. Stop with Ctrl+C.

TXT
wait "${server_pid}"
