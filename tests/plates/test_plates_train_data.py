"""Augmentation of the real training crops (`plates train --real-loose`, `--real-angled`):
torch-free."""

from __future__ import annotations

import random

import cv2
import numpy as np
from plate_images import clean_crop

from plates.rectify import INPUT_H, INPUT_W
from plates.synth.texts import PlateSpec
from plates.train.data import jitter_real, seen_at_an_angle, with_random_margins

CROP = clean_crop(PlateSpec("皖A12345", "blue", 1, "standard"), seed=1, margin=0.0)


def test_a_crop_framed_loosely_sits_whole_inside_margins_like_a_cameras() -> None:
    h, w = CROP.shape[:2]
    for seed in range(20):
        framed = with_random_margins(CROP, random.Random(seed))
        fh, fw = framed.shape[:2]
        assert w * 1.06 - 2 <= fw <= w * 1.5 + 2  # 3-25 % of the width at each side
        assert h * 1.1 - 2 <= fh <= h * 2.2 + 2  # 5-60 % of the height above and below
        x, y = cv2.minMaxLoc(cv2.matchTemplate(framed, CROP, cv2.TM_SQDIFF))[2]
        assert (framed[y : y + h, x : x + w] == CROP).all()  # the plate itself is untouched


def test_a_crop_seen_at_an_angle_has_one_end_shorter_inside_a_detectors_box() -> None:
    plate = np.zeros((40, 150, 3), np.uint8)
    plate[:] = (0, 255, 0)  # a colour the car paint's noise never gives exactly
    far_ends = set()
    for seed in range(20):
        seen = seen_at_an_angle(plate, random.Random(seed))
        fh, fw = seen.shape[:2]
        assert 150 <= fw <= 150 * 1.12 + 2 and 40 <= fh <= 40 * 1.3 + 2  # small margins only
        inside = (seen == (0, 255, 0)).all(axis=2)
        cols = np.flatnonzero(inside.any(axis=0))
        left, right = inside[:, cols[0] + 2].sum(), inside[:, cols[-1] - 2].sum()
        near, far = max(left, right), min(left, right)
        assert near >= 38  # the near end keeps the plate's height
        assert 0.45 * 40 <= far <= 0.92 * 40  # 5-25 % shorter at the top and at the bottom
        far_ends.add("left" if left < right else "right")
    assert far_ends == {"left", "right"}  # the camera stands on either side of the lane


def test_jitter_gives_the_recognizer_input_tight_loose_or_angled() -> None:
    rng = random.Random(3)
    for loose, angled in ((False, False), (True, False), (False, True), (True, True)):
        out = jitter_real(CROP, rng, loose, angled)
        assert out.shape == (INPUT_H, INPUT_W, 3) and out.dtype == np.uint8
