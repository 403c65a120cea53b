"""Plate background colour from a rectified plate image, checked against the grammar."""

from __future__ import annotations

import cv2
import numpy as np

from plates.grammar import colours_of

COLOURS = ("blue", "yellow", "green", "white", "black")


def colour_scores(plate_bgr: np.ndarray) -> dict[str, float]:
    """Share of the plate's middle that looks like each background colour."""
    h, w = plate_bgr.shape[:2]
    mid = plate_bgr[int(h * 0.15) : max(int(h * 0.85), 1), int(w * 0.08) : max(int(w * 0.92), 1)]
    hsv = cv2.cvtColor(mid, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int16)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    n = max(1, len(hue))
    saturated = (sat > 70) & (val > 50)
    return {
        "blue": float(np.sum(saturated & (hue >= 95) & (hue <= 130))) / n,
        "yellow": float(np.sum(saturated & (hue >= 10) & (hue < 35))) / n,
        "green": float(np.sum((sat > 35) & (val > 60) & (hue >= 35) & (hue < 95))) / n,
        "white": float(np.sum((sat < 45) & (val > 140))) / n,
        "black": float(np.sum(val < 70)) / n,
    }


def classify(plate_bgr: np.ndarray, text: str) -> str:
    """The likeliest colour among those the text's format can have."""
    allowed = colours_of(text) or COLOURS
    if len(allowed) == 1:
        return allowed[0]
    scores = colour_scores(plate_bgr)
    return max(allowed, key=lambda c: scores[c])
