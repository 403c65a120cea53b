"""Plates rendered for the tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import random

import numpy as np

from plates.synth.render import render_plate
from plates.synth.texts import PlateSpec

# One plate of each colour and format the recognizer reads.
SPECS = [
    PlateSpec("皖A12345", "blue", 1, "standard"),
    PlateSpec("沪B8D0Q2", "blue", 1, "standard"),
    PlateSpec("京AD12345", "green", 1, "new_energy_small"),
    PlateSpec("粤B12345F", "green", 1, "new_energy_large"),
    PlateSpec("苏E5S1T8", "yellow", 1, "standard"),
    PlateSpec("浙A1234警", "white", 1, "police"),
    PlateSpec("粤Z1234港", "black", 1, "hong_kong"),
    PlateSpec("鲁C2Z8B0", "yellow", 2, "standard"),
]


def clean_crop(spec: PlateSpec, seed: int = 0, px_per_mm: float = 0.5, margin: float = 0.08) -> np.ndarray:
    """A rendered plate with a little grey surround, as a detector would crop it."""
    plate = render_plate(
        spec.text, spec.colour, spec.rows, spec.fmt, random.Random(seed), px_per_mm=px_per_mm
    )
    h, w = plate.shape[:2]
    my, mx = int(h * margin), int(w * margin / 2)
    return np.pad(plate, ((my, my), (mx, mx), (0, 0)), constant_values=110)
