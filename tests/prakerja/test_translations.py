"""Every string marked for translation has its Indonesian translation."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def untranslated(po_text: str) -> list[str]:
    missing = []
    for block in po_text.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if any(line.startswith("#, fuzzy") for line in block.splitlines()):
            missing.append(block)
            continue
        msgstr_at = next((i for i, line in enumerate(lines) if line.startswith("msgstr")), None)  # msgstr[0] too
        if msgstr_at is None:  # an obsolete (#~) entry
            continue
        msgstr = "".join(line.split('"', 1)[1].rsplit('"', 1)[0] for line in lines[msgstr_at:])
        if not msgstr:
            missing.append(block)
    return missing


def test_the_committed_catalogue_is_complete_and_current(tmp_path):
    # Extract the strings afresh from a copy of the code and compare.
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "var", "*.mo", "__pycache__", "tests"))
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "id", "--no-location", "--ignore=bench", "-v", "0"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = (copy / "locale/id/LC_MESSAGES/django.po").read_text()
    assert untranslated(fresh) == []


def test_the_catalogue_compiles_cleanly():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(ROOT / "locale/id/LC_MESSAGES/django.po")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
