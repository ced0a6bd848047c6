"""The selection lottery of a wave, written so anyone can run it again.

The order: each taking part application's id, as decimal text, is hashed
with HMAC-SHA256 keyed by the wave's recorded seed (UTF-8); applications are
sorted by that hex digest, smallest first. Walking that order, an application
is selected while the wave's quota is not full and its province's quota (if
the wave sets one) is not full; the rest are not selected. Nothing else (no
clock, no database order) goes in, so the recorded seed and the recorded list
of those who took part give the same result on any machine.
"""

import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    application_id: int
    province_code: str


def rank(seed: str, application_id: int) -> str:
    return hmac.new(seed.encode(), str(application_id).encode(), hashlib.sha256).hexdigest()


def draw(
    seed: str, candidates: list[Candidate], *, quota: int, province_quotas: dict[str, int]
) -> tuple[list[int], set[int]]:
    """Returns the application ids in drawn order and the selected ones."""
    order = sorted(candidates, key=lambda c: rank(seed, c.application_id))
    selected: set[int] = set()
    per_province: Counter[str] = Counter()
    for candidate in order:
        if len(selected) >= quota:
            break
        limit = province_quotas.get(candidate.province_code)
        if limit is not None and per_province[candidate.province_code] >= limit:
            continue
        selected.add(candidate.application_id)
        per_province[candidate.province_code] += 1
    return [c.application_id for c in order], selected
