"""Training data: a cache of rendered plates, and the real crops with light augmentation."""

from __future__ import annotations

import logging
import multiprocessing as mp
import random
from pathlib import Path

import cv2
import numpy as np

from plates.grammar import ALPHABET, PROVINCES
from plates.image_files import read_image
from plates.labels import read_labels
from plates.rectify import INPUT_H, INPUT_W, paste_into_quad, side_view, to_input
from plates.synth.augment import car_background

log = logging.getLogger(__name__)
_INDEX = {c: i + 1 for i, c in enumerate(ALPHABET)}  # 0 is the CTC blank


def encode(text: str) -> list[int]:
    return [_INDEX[c] for c in text]


def province_offsets(counts: dict[str, int], tau: float) -> np.ndarray:
    """Per-class logit offsets that take the training draws' province prior out of the model
    (logit adjustment, Menon et al. 2021): tau * log(share / uniform share) on each province's
    class, 0 on every other class (blank included). Added to the logits in the loss only, so the
    exported model scores provinces as if each were drawn equally often: the real crops' 皖 (half
    of them) no longer wins where the glyph is unclear. counts: provinces seen so far."""
    shares = np.array([counts.get(p, 0) + 1.0 for p in PROVINCES])  # +1: none is impossible
    shares /= shares.sum()
    offsets = np.zeros(len(ALPHABET) + 1, np.float32)
    offsets[[_INDEX[p] for p in PROVINCES]] = tau * np.log(shares * len(PROVINCES))
    return offsets


def _render_chunk(args: tuple[int, int]) -> tuple[np.ndarray, list[str]]:
    from plates.synth.augment import rendered_camera_crop
    from plates.synth.texts import random_spec

    seed, n = args
    rng = random.Random(seed)
    images = np.empty((n, INPUT_H, INPUT_W, 3), np.uint8)
    texts = []
    for i in range(n):
        spec = random_spec(rng)
        images[i] = to_input(rendered_camera_crop(spec, rng))
        texts.append(spec.text)
    return images, texts


def build_cache(path: Path, n: int, seed: int, workers: int = 2) -> None:
    """Render n plates once (about 10 ms each) so training does not wait for the renderer."""
    chunk = 1000
    n_jobs = (n + chunk - 1) // chunk
    jobs = [(seed * 100_003 + i, min(chunk, n - i * chunk)) for i in range(n_jobs)]
    parts: list[tuple[np.ndarray, list[str]]] = []
    with mp.get_context("fork").Pool(workers) as pool:
        for k, part in enumerate(pool.imap(_render_chunk, jobs), start=1):
            parts.append(part)
            log.info("rendered %d/%d", min(k * chunk, n), n)
    images = np.concatenate([p[0] for p in parts])
    texts = np.array([t for p in parts for t in p[1]])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, texts=texts)


def load_cache(path: Path) -> tuple[np.ndarray, list[str]]:
    with np.load(path) as z:
        return z["images"], [str(t) for t in z["texts"]]


def guard_training_folder(folder: Path) -> None:
    # The evaluation set and the sealed set must never leak into training.
    parts = {p.lower() for p in Path(folder).resolve().parts}
    if "eval" in parts or "sealed" in parts:
        raise SystemExit(f"refusing to train on {folder}: evaluation data is for measuring only")


def load_real(folders: list[Path]) -> tuple[list[np.ndarray], list[str]]:
    images, texts = [], []
    for folder in folders:
        guard_training_folder(folder)
        for item in read_labels(folder):
            if item.kind != "crop":
                continue
            if not set(item.plate) <= _INDEX.keys():  # 粤O...: a plate, but no class of the model
                log.warning("skipping %s: no model output for a character of %s", item.path, item.plate)
                continue
            img = read_image(item.path)  # cv2.imread crashes on a GBK folder name
            if img is None:
                log.warning("skipping unreadable %s", item.path)
                continue
            images.append(img)
            texts.append(item.plate)
    return images, texts


def with_random_margins(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A tight real crop framed as a camera's own detector frames plates: margins of 3-25 % of
    its width at the sides and 5-60 % of its height above and below (as the rendered plates'
    loose crops), on rendered car paint."""
    h, w = img.shape[:2]
    left, right = (round(rng.uniform(0.03, 0.25) * w) for _ in range(2))
    top, bottom = (round(rng.uniform(0.05, 0.6) * h) for _ in range(2))
    out = car_background(h + top + bottom, w + left + right, rng)
    out[top : top + h, left : left + w] = img
    return np.clip(out, 0, 255).astype(np.uint8)


def seen_at_an_angle(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A tight real crop as a side-mounted lane camera sees the plate: one end (left or right)
    farther away, 5-25 % of the plate's height shorter at the top and at the bottom, inside the
    upright box a detector draws around it (paint showing at the far end's corners) with small
    margins. The real crops are all seen nearly face on."""
    h, w = img.shape[:2]
    cut = rng.uniform(0.05, 0.25) * h
    left, right = (round(rng.uniform(0.0, 0.06) * w) for _ in range(2))
    top, bottom = (round(rng.uniform(0.0, 0.15) * h) for _ in range(2))
    out = car_background(h + top + bottom, w + left + right, rng)
    out = np.clip(out, 0, 255).astype(np.uint8)
    cut_left, cut_right = (cut, 0.0) if rng.random() < 0.5 else (0.0, cut)
    paste_into_quad(out, img, side_view(left, top, w, h, cut_left, cut_right))
    return out


def jitter_real(img: np.ndarray, rng: random.Random, loose: bool = False,
                angled: bool = False) -> np.ndarray:
    """Augmentation of a real crop: framing, rotation, perspective, tint, resolution, JPEG.

    loose: framed with wide margins first (with_random_margins); angled: seen from the side
    first (seen_at_an_angle).
    """
    if angled:
        img = seen_at_an_angle(img, rng)
    if loose:
        img = with_random_margins(img, rng)
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    d = np.array([[rng.uniform(-0.05, 0.05) * w, rng.uniform(-0.12, 0.12) * h] for _ in range(4)],
                 np.float32)
    m = cv2.getPerspectiveTransform(src + d, src)
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-5, 5), 1.0)
    m = np.vstack([turn, [0, 0, 1]]).astype(np.float64) @ m
    out = cv2.warpPerspective(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:  # white balance and saturation differ from camera to camera
        hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + rng.randint(-6, 6)) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.6, 1.3), 0, 255)
        out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    out = to_input(out)
    if rng.random() < 0.25:  # a smaller plate, seen from further away
        small_w = rng.randint(40, INPUT_W - 8)
        small = cv2.resize(out, (small_w, max(8, small_w * INPUT_H // INPUT_W)),
                           interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (INPUT_W, INPUT_H), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 80)])
        decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
        out = out if decoded is None else decoded
    return photometric_light(out.astype(np.float32), rng)


def photometric_light(img: np.ndarray, rng: random.Random) -> np.ndarray:
    img = img.astype(np.float32) * rng.uniform(0.6, 1.3) + rng.uniform(-35, 35)
    if rng.random() < 0.1:
        img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(img, (3, 3), 0)
    return np.clip(img, 0, 255).astype(np.uint8)
