"""False admissions, end to end: look-alike unregistered plates rendered, read and matched.

Registered plates are drawn from the grammar; each impostor differs from one registered plate
by a single character, half of the time a confusable one (8 for B, 0 for D...). Every impostor
is rendered with the camera effects, read by the recognizer and matched under a lane policy;
an admitted impostor is a false admission.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from plates.grammar import SLOTS, formats_of
from plates.interval import wilson_pct
from plates.lane import LaneVoter
from plates.matcher import PlateMatcher, Policy, confusable_group
from plates.reading import Reading
from plates.recognizer import Recognizer
from plates.synth.texts import PlateSpec, random_spec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AdmissionsResult:
    registered: int
    impostors: int
    impostors_read: int  # impostor images that gave any reading
    false_admissions_exact: int  # lane default: voter decides on the frame, exact match
    misread_as_registered: int  # any reading (>= min_confidence) equal to a registered plate
    false_admissions_confusable: int  # the same, if the lane allowed one confusable character
    registered_tried: int
    registered_first_frame_admitted: int

    def summary(self) -> dict[str, float | int]:
        return {
            "registered_plates": self.registered,
            "impostor_images": self.impostors,
            "impostors_read": self.impostors_read,
            "false_admissions_default_policy": self.false_admissions_exact,
            # The highest rate per unregistered car that this count still fits, at 95 %.
            "false_admission_rate_high95_pct": wilson_pct(
                self.false_admissions_exact, max(1, self.impostors), places=4)[1],
            "impostor_readings_equal_to_a_registered_plate": self.misread_as_registered,
            "false_admissions_confusable_policy": self.false_admissions_confusable,
            "registered_first_frame_admitted_pct": round(
                100.0 * self.registered_first_frame_admitted / max(1, self.registered_tried), 2),
        }


def impostor_of(text: str, rng: random.Random) -> str | None:
    """A plate one character away from text that still fits a format (None if none found)."""
    fmts = formats_of(text)
    slots = SLOTS[fmts[0].name]
    for _ in range(20):
        i = rng.randrange(len(text))
        group = confusable_group(text[i])
        if group and rng.random() < 0.5:
            choices = [c for c in group if c != text[i] and c in slots[i]]
        else:
            choices = [c for c in slots[i] if c != text[i]]
        if choices:
            cand = text[:i] + rng.choice(choices) + text[i + 1 :]
            if formats_of(cand):
                return cand
    return None


def run(rec: Recognizer, n_registered: int, n_impostors: int, n_registered_tried: int,
        seed: int, decide_at: float | None = None) -> AdmissionsResult:
    """decide_at: the lane's single-frame threshold (None: the LaneVoter default)."""
    from plates.synth.augment import rendered_camera_crop

    def lane() -> LaneVoter:
        return LaneVoter() if decide_at is None else LaneVoter(decide_at=decide_at)

    rng = random.Random(seed)
    specs: dict[str, PlateSpec] = {}
    while len(specs) < n_registered:
        s = random_spec(rng)
        specs.setdefault(s.text, s)
    matcher = PlateMatcher(specs)
    registered = list(specs.values())
    impostors: list[PlateSpec] = []
    while len(impostors) < n_impostors:
        base = rng.choice(registered)
        text = impostor_of(base.text, rng)
        if text and text not in specs:
            impostors.append(PlateSpec(text, base.colour, base.rows, formats_of(text)[0].name))

    def reading(spec: PlateSpec) -> Reading | None:
        return rec.read_crop(rendered_camera_crop(spec, rng))

    def first_frame(spec: PlateSpec) -> bool:
        # A fresh lane sees one frame: admitted if the voter decides on it and it matches.
        r = reading(spec)
        decision = lane().add([r] if r else [], now=0.0)
        return decision is not None and matcher.match(decision.text).admitted

    read_any = fa_exact = fa_conf = misread = 0
    for k, spec in enumerate(impostors, start=1):
        r = reading(spec)
        if r is None:
            continue
        text = r.text
        read_any += 1
        # A fresh lane sees this one frame; under either policy, only what it decides on is
        # matched (a reading at 0.6 one look-alike from a registered plate admits nobody).
        decided = lane().add([r], now=0.0) is not None
        if matcher.match(text, Policy.EXACT).admitted:
            misread += 1
            fa_exact += decided
            log.warning("impostor %s read as registered %s (confidence %.3f, lane %s)",
                        spec.text, text, r.confidence, "admits" if decided else "waits")
        m = matcher.match(text, Policy.CONFUSABLE)
        if decided and m.admitted:
            fa_conf += 1
            log.debug("impostor %s read as %s matched %s", spec.text, text, m.registered)
        if k % 1000 == 0:
            log.info("impostors %d/%d", k, len(impostors))
    tried = rng.sample(registered, min(n_registered_tried, len(registered)))
    first = sum(first_frame(s) for s in tried)
    return AdmissionsResult(len(registered), len(impostors), read_any, fa_exact, misread,
                            fa_conf, len(tried), first)
