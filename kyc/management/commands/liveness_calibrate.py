"""Prints what the liveness check measures on the real sequences of
../shared/liveness, cut into bursts for a fixed challenge (kyc.samples),
and its verdict on each: the figures behind README "Liveness thresholds".

    python manage.py liveness_calibrate
"""

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand

from kyc import liveness, samples


class Command(BaseCommand):
    help = "Liveness measurements and verdicts on the real sequences."

    def handle(self, *args, **options):
        s = settings
        self.stdout.write(
            f"thresholds: blink open >= {s.LIVENESS_BLINK_OPEN_RATIO} and closed <= "
            f"{s.LIVENESS_BLINK_CLOSED_RATIO} of the open-eye EAR; turn >= {s.LIVENESS_TURN_YAW} yaw; "
            f"same person <= {s.LIVENESS_SAME_PERSON_THRESHOLD}; eyes >= {s.LIVENESS_MIN_EYE_DISTANCE} px apart\n"
        )
        accepted = genuine = refused = attacks = 0
        for case in (*samples.GENUINE, samples.HELD_OUT, *samples.ATTACKS):
            result = liveness.analyse(samples.bursts_of(case), list(case.actions))
            verdict = "passed" if result.passed else f"refused ({result.reason_code})"
            self.stdout.write(f"{case.name} [{' '.join(case.actions)}]: {verdict}  - {case.note}")
            for a in result.actions:
                self.stdout.write(
                    f"    {a.action:10} frames {a.frames:2}  EAR {a.ear_min:.3f}-{a.ear_max:.3f}"
                    f" (open {result.baseline_ear:.3f})  yaw {a.yaw_min:+.3f}..{a.yaw_max:+.3f}"
                    f"  measured {a.movement:.3f}  {'ok' if a.passed else 'MISSING'}"
                )
            if result.identity_spread is not None:
                self.stdout.write(f"    identity spread {result.identity_spread:.3f}")
            if case is samples.HELD_OUT:
                continue
            if case.genuine:
                genuine += 1
                accepted += result.passed
            else:
                attacks += 1
                refused += not result.passed
        for still in samples.STILLS:
            frame = samples.decode(samples.samples_dir() / still)
            rng = np.random.default_rng(7)
            jittered = [
                [
                    np.clip(frame.astype(np.int16) + rng.integers(-6, 7, frame.shape), 0, 255).astype(np.uint8)
                    for _ in range(8)
                ]
                for _ in range(2)
            ]
            for label, bursts in (("repeated", [[frame] * 8, [frame] * 8]), ("with camera noise", jittered)):
                result = liveness.analyse(bursts, [liveness.BLINK, liveness.TURN_LEFT])
                attacks += 1
                refused += not result.passed
                verdict = "passed" if result.passed else f"refused ({result.reason_code})"
                self.stdout.write(f"{still.split('/')[-1]} {label}: {verdict}")
        self.stdout.write(
            f"\ngenuine sequences accepted: {accepted}/{genuine}; attack cases refused: {refused}/{attacks}"
        )
