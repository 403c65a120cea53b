"""Camera effects for rendered plates: framing, perspective, light, night/IR, blur, JPEG.

They cover what the real training crops do not: loose crops with 10-25 % margins, rotations,
60-700 px wide plates, night and infra-red images, dirt and glare.
"""

from __future__ import annotations

import random

import cv2
import numpy as np

from plates.rectify import stitch_rows
from plates.synth.render import render_plate
from plates.synth.texts import PlateSpec


def car_background(h: int, w: int, rng: random.Random) -> np.ndarray:
    """Paint of a random colour with a light gradient, bumper and grille lines, and noise."""
    base = np.array([rng.randint(0, 255) for _ in range(3)], np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    ramp = np.linspace(-1, 1, h, dtype=np.float32)[:, None, None] * rng.uniform(-60, 60)
    img += ramp
    for _ in range(rng.randint(0, 4)):  # bumper edges, grille bars
        y = rng.randint(0, h - 1)
        c = [rng.randint(0, 255) for _ in range(3)]
        cv2.line(img, (0, y), (w - 1, y + rng.randint(-5, 5)), c, rng.randint(1, max(1, h // 10)))
    img += np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(2, 15), img.shape)
    return img


def _dirt(plate: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = plate.shape[:2]
    out = plate.astype(np.float32)
    for _ in range(rng.randint(1, 6)):
        mask = np.zeros((h, w), np.float32)
        centre = (rng.randint(0, w - 1), rng.randint(0, h - 1))
        axes = (rng.randint(2, max(3, w // 6)), rng.randint(2, max(3, h // 3)))
        cv2.ellipse(mask, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, axes[1] / 2))[..., None]
        colour = np.array([rng.randint(40, 120)] * 3, np.float32)
        out = out * (1 - soft * rng.uniform(0.2, 0.6)) + colour * soft * rng.uniform(0.2, 0.6)
    return out


def _glare(img: np.ndarray, rng: random.Random) -> np.ndarray:
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (rng.randint(0, w), rng.randint(0, h)),
                (rng.randint(w // 8 + 1, w // 2 + 2), rng.randint(h // 4 + 1, h + 2)),
                rng.uniform(0, 180), 0, 360, 1.0, -1)
    soft = cv2.GaussianBlur(mask, (0, 0), max(2.0, h / 4))[..., None]
    return img + soft * rng.uniform(60, 200)


def place(plate: np.ndarray, rng: random.Random, loose: bool) -> np.ndarray:
    """Put the plate in a scene with perspective and rotation; return a crop around it."""
    ph, pw = plate.shape[:2]
    pad_x, pad_y = int(pw * 0.45), int(ph * 1.2)
    ch, cw = ph + 2 * pad_y, pw + 2 * pad_x
    scene = car_background(ch, cw, rng)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    dst = src + np.array([pad_x, pad_y], np.float32)
    # Perspective: each corner moves independently; rotation about the centre.
    dst += np.array([[rng.uniform(-0.05, 0.05) * pw, rng.uniform(-0.12, 0.12) * ph]
                     for _ in range(4)], np.float32)
    angle = np.deg2rad(rng.gauss(0, 4) if rng.random() < 0.8 else rng.uniform(-12, 12))
    centre = dst.mean(axis=0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    dst = (dst - centre) @ rot.T + centre
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(plate.astype(np.float32), m, (cw, ch), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), m, (cw, ch))[..., None]
    scene = scene * (1 - mask) + warped * mask
    x0, y0 = dst[:, 0].min(), dst[:, 1].min()
    x1, y1 = dst[:, 0].max(), dst[:, 1].max()
    bw, bh = x1 - x0, y1 - y0
    if loose:
        mx = [rng.uniform(0.03, 0.25) * bw for _ in range(2)]
        my = [rng.uniform(0.05, 0.6) * bh for _ in range(2)]
    else:  # tight crops as detectors and the real training crops frame them
        mx = [rng.uniform(-0.01, 0.04) * bw for _ in range(2)]
        my = [rng.uniform(-0.06, 0.15) * bh for _ in range(2)]
    xa, xb = int(max(0, x0 - mx[0])), int(min(cw, x1 + mx[1]))
    ya, yb = int(max(0, y0 - my[0])), int(min(ch, y1 + my[1]))
    return scene[ya:yb, xa:xb]


def photometric(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Light, night/IR, blur, resolution, noise and JPEG on a float32 BGR crop."""
    np_rng = np.random.default_rng(rng.randint(0, 2**31))
    if rng.random() < 0.2:
        img = _glare(img, rng)
    img = img * rng.uniform(0.5, 1.3) + rng.uniform(-40, 40)
    mode = rng.random()
    if mode < 0.12:  # infra-red: grey, often with washed-out, retro-reflective plates
        w = np.array([rng.random() for _ in range(3)], np.float32)
        grey = (img * (w / w.sum())).sum(axis=2, keepdims=True)
        if rng.random() < 0.3:
            grey = 255 - grey
        img = np.repeat(grey, 3, axis=2)
    elif mode < 0.25:  # night: dark, noisy, yellowish street light
        img = img * rng.uniform(0.15, 0.5) * np.array([rng.uniform(0.6, 1.0), 1.0, 1.1])
        img += np_rng.normal(0, rng.uniform(4, 14), img.shape)
    img = np.clip(img, 0, 255)
    h, w = img.shape[:2]
    # Resolution: plates 60-700 px wide in the camera, often small.
    target_w = int(np.exp(rng.uniform(np.log(40), np.log(320))))
    scale = target_w / max(1, w)
    if scale < 1:
        small = cv2.resize(img, (max(8, target_w), max(4, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.4:
        k = rng.choice((3, 5))
        img = cv2.GaussianBlur(img, (k, k), 0)
    if rng.random() < 0.15:  # horizontal motion blur
        k = rng.randint(3, 7)
        kern = np.zeros((k, k), np.float32)
        kern[k // 2] = 1.0 / k
        img = cv2.filter2D(img, -1, kern)
    img = img + np_rng.normal(0, rng.uniform(0, 8), img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(20, 95)])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def rendered_camera_crop(spec: PlateSpec, rng: random.Random) -> np.ndarray:
    """spec's plate rendered 130-350 px wide (0.3-0.8 px/mm) and cropped as a camera would:
    what training, the admissions sample and the bench read."""
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, rng,
                         px_per_mm=rng.uniform(0.3, 0.8))
    return camera_crop(plate, spec.rows, rng)


def camera_crop(plate: np.ndarray, rows: int, rng: random.Random) -> np.ndarray:
    """A rendered plate as a camera or detector would crop it (uint8 BGR)."""
    plate = _dirt(plate, rng) if rng.random() < 0.3 else plate.astype(np.float32)
    if rows == 2:
        # Two-row plates reach the recognizer after the detector framed them tightly.
        crop = place(plate, rng, loose=False)
        out = photometric(crop, rng)
        return stitch_rows(out, split=rng.uniform(0.33, 0.43))
    crop = place(plate, rng, loose=rng.random() < 0.4)
    return photometric(crop, rng)
