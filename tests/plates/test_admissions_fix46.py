"""`plates eval-admissions`'s confusable-policy figure counts only what the lane decides on."""

from __future__ import annotations

import pytest

import plates.synth.augment as augment
from plates.admissions import run
from plates.reading import Reading
from plates.synth.texts import PlateSpec


class _ReadsItself:
    """Reads every plate as exactly its own text, at one confidence."""

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    def read_crop(self, spec: PlateSpec) -> Reading:  # given the spec (rendered_camera_crop stubbed)
        return Reading(spec.text, spec.colour, self.confidence, (0, 0, 100, 30), spec.rows, spec.fmt)


def test_confusable_false_admissions_count_only_what_the_lane_would_admit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`false_admissions_confusable_policy` counted every impostor reading one look-alike away
    from a registered plate, even at 0.6, which no lane (decide_at 0.985) ever acts on; the
    default-policy figure beside it needs the lane's decision. With no reading the lane would
    decide on, a confusable lane admits nobody."""
    monkeypatch.setattr(augment, "rendered_camera_crop", lambda spec, rng: spec)
    res = run(_ReadsItself(0.6), 200, 200, 10, seed=11)
    assert res.false_admissions_exact == 0
    assert res.registered_first_frame_admitted == 0  # the lane decides nothing at 0.6
    assert res.summary()["false_admissions_confusable_policy"] == 0, res


def test_confusable_false_admissions_count_what_the_lane_decides_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read surely, the same impostors are decided on, and those one look-alike away count."""
    monkeypatch.setattr(augment, "rendered_camera_crop", lambda spec, rng: spec)
    unsure = run(_ReadsItself(0.6), 200, 200, 10, seed=11)
    sure = run(_ReadsItself(0.999), 200, 200, 10, seed=11)
    assert sure.registered_first_frame_admitted == 10
    assert sure.false_admissions_confusable > 0 and unsure.false_admissions_confusable == 0
