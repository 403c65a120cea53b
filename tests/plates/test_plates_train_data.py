"""Augmentation of the real training crops (`plates train --real-loose`): torch-free."""

from __future__ import annotations

import random

import cv2
import numpy as np
from plate_images import clean_crop

from plates.rectify import INPUT_H, INPUT_W
from plates.synth.texts import PlateSpec
from plates.train.data import jitter_real, with_random_margins

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


def test_jitter_gives_the_recognizer_input_tight_or_loose() -> None:
    rng = random.Random(3)
    for loose in (False, True):
        out = jitter_real(CROP, rng, loose)
        assert out.shape == (INPUT_H, INPUT_W, 3) and out.dtype == np.uint8
