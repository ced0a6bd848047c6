#!/usr/bin/env bash
# Creates .venv and installs the project's Python packages. Sourced by the
# demo and test scripts; safe to run again (it only installs what changed).
# Usage: scripts/setup.sh [dev]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
req=requirements.txt
[ "${1:-}" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$(cat requirements.txt requirements-nodeps.txt "$req" | sha256sum | cut -c1-16)-${1:-run}"
# This machine's pip configuration names local package mirrors that may be
# absent; pip warns about each. Hide only that warning.
pip_install() {
  .venv/bin/pip install --quiet --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}
if [ ! -f "$stamp" ]; then
  pip_install --upgrade pip
  pip_install -r "$req"
  pip_install --no-deps -r requirements-nodeps.txt
  touch "$stamp"
fi

# Debian packages: GNU gettext's msgfmt compiles the translations
# (locale/*.po); Tesseract with its Indonesian data reads the NIK off KTP
# photos (kyc/ktp.py).
missing=()
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
tesseract --list-langs 2>/dev/null | grep -qx ind || missing+=(tesseract-ocr-ind)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Install the Debian packages: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
.venv/bin/python manage.py compilemessages --ignore=.venv -v 0
