"""Whole camera frames with one plate on a car, for `plates bench`, `plates synth --scenes`
and the tests (detection needs frames, not just crops)."""

from __future__ import annotations

import random

import cv2
import numpy as np

from plates.synth.render import render_plate
from plates.synth.texts import PlateSpec, random_spec


def render_scene(rng: random.Random, width: int = 1280, height: int = 720,
                 spec: PlateSpec | None = None, plate_w: int | None = None,
                 centre: tuple[int, int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, PlateSpec, tuple[int, int, int, int]]:
    """(frame, the plate as rendered, spec, plate box x, y, w, h in the frame)."""
    spec = spec or random_spec(rng)
    np_rng = np.random.default_rng(rng.randint(0, 2**31))
    frame = np.empty((height, width, 3), np.float32)
    road = np.linspace(rng.uniform(60, 120), rng.uniform(120, 200), height, dtype=np.float32)
    frame[:] = road[:, None, None]
    # A car: body, bumper line, lights; the plate sits low in its middle.
    pw = plate_w or rng.randint(90, 260)
    cx, cy = centre or (rng.randint(pw, width - pw), rng.randint(height // 3, height - height // 5))
    body = [rng.randint(0, 255) for _ in range(3)]
    cv2.rectangle(frame, (cx - 3 * pw, cy - 2 * pw), (cx + 3 * pw, cy + pw // 2), body, -1)
    cv2.rectangle(frame, (cx - 3 * pw, cy + pw // 5), (cx + 3 * pw, cy + pw // 4), (30, 30, 30), -1)
    for side in (-1, 1):
        cv2.ellipse(frame, (cx + side * 2 * pw, cy - pw), (pw // 3, pw // 6), 0, 0, 360,
                    (40, 40, 200), -1)
    frame += np_rng.normal(0, 6, frame.shape)
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, rng, px_per_mm=1.0)
    ph = round(plate.shape[0] * pw / plate.shape[1])
    src = np.array([[0, 0], [plate.shape[1], 0], [plate.shape[1], plate.shape[0]],
                    [0, plate.shape[0]]], np.float32)
    x0, y0 = cx - pw // 2, cy - ph // 2
    dst = np.array([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]], np.float32)
    dst += np.array([[rng.uniform(-0.04, 0.04) * pw, rng.uniform(-0.1, 0.1) * ph]
                     for _ in range(4)], np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate.astype(np.float32), m, (width, height))
    mask = cv2.warpPerspective(np.ones(plate.shape[:2], np.float32), m, (width, height))[..., None]
    frame = frame * (1 - mask) + warped * mask
    out = np.clip(frame, 0, 255).astype(np.uint8)
    bx0, by0 = dst.min(axis=0)
    bx1, by1 = dst.max(axis=0)
    box = (int(bx0), int(by0), int(bx1 - bx0), int(by1 - by0))
    margin_x, margin_y = int(0.15 * box[2]), int(0.4 * box[3])
    crop = out[max(0, box[1] - margin_y) : box[1] + box[3] + margin_y,
               max(0, box[0] - margin_x) : box[0] + box[2] + margin_x]
    return out, crop, spec, box
