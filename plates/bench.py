"""`plates bench`: time per stage on rendered 1280x720 frames and crops, and resident memory."""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from plates.decode import decode, log_softmax
from plates.detect import find_candidates
from plates.recognizer import Recognizer
from plates.rectify import to_input
from plates.synth.scene import render_scene


def _ms(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def _p(xs: list[float], q: float) -> float:
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 2)


def rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _camera_crops(rng: random.Random, n: int) -> list[np.ndarray]:
    """Rendered plates cropped as cameras and lane ROIs crop them, tight and loose alike: a
    loose one, or one read with less than near certainty, is searched for the plate inside it."""
    from plates.synth.augment import rendered_camera_crop
    from plates.synth.texts import random_spec

    return [rendered_camera_crop(random_spec(rng), rng) for _ in range(n)]


def run(frames: int, threads: int, model: Path | None = None,
        backend: str = "auto") -> dict[str, float | str]:
    cv2.setNumThreads(threads)
    rng = random.Random(5)
    rec = Recognizer(model, backend=backend)
    rss_model = rss_mb()
    scenes = [render_scene(rng, 1280, 720) for _ in range(max(3, frames // 3))]
    crop = scenes[0][1]
    crops = _camera_crops(rng, frames * 3)
    frame_imgs = [s[0] for s in scenes]
    rec.read_frame(frame_imgs[0])  # warm-up: first forward allocates
    i = iter(range(10**9))
    detect = _ms(lambda: find_candidates(frame_imgs[next(i) % len(frame_imgs)]), frames)
    j = iter(range(10**9))
    frame = _ms(lambda: rec.read_frame(frame_imgs[next(j) % len(frame_imgs)]), frames)
    inp = to_input(crop)
    net = _ms(lambda: rec.model.logits([inp]), frames * 3)
    logits = rec.model.logits([inp])[0]
    dec = _ms(lambda: decode(log_softmax(logits)), frames * 3)
    k = iter(range(10**9))
    crop_t = _ms(lambda: rec.read_crop(crops[next(k) % len(crops)]), len(crops))
    return {
        "backend": rec.model.backend,
        "opencv_threads": threads,
        "detect_ms_p50": _p(detect, 0.5),
        "recognizer_forward_ms_p50": _p(net, 0.5),
        "decode_ms_p50": _p(dec, 0.5),
        "crop_read_ms_p50": _p(crop_t, 0.5),
        "crop_read_ms_p90": _p(crop_t, 0.9),
        "frame_1280x720_read_ms_p50": _p(frame, 0.5),
        "frame_1280x720_read_ms_p90": _p(frame, 0.9),
        "rss_with_model_mb": round(rss_model, 1),
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "frames": len(frame),
        "frame_pixels": float(np.prod(frame_imgs[0].shape[:2])),
    }
