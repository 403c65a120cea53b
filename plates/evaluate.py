"""`plates eval`: accuracy on a labelled folder, split by colour, with the slowest images."""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from plates.image_files import read_image
from plates.interval import wilson_pct
from plates.labels import Labelled, manifest_rows, read_labels
from plates.recognizer import Recognizer
from plates.rectify import paste_into_quad, rotated_whole, side_view

log = logging.getLogger(__name__)


@dataclass
class _Tally:
    n: int = 0
    full: int = 0
    chars_right: int = 0
    chars: int = 0
    detected: int = 0
    first_right: int = 0  # the province (or other first character) read right

    def add(self, truth: str, read: str | None, detected: bool) -> None:
        self.n += 1
        self.full += read == truth
        self.first_right += (read or "")[:1] == truth[:1]
        self.chars += len(truth)
        self.chars_right += _chars_right(truth, read or "")
        self.detected += detected

    def pct(self, k: int, n: int) -> float:
        return round(100.0 * k / n, 2) if n else 0.0


def _chars_right(truth: str, read: str) -> int:
    """Characters right, aligned by edit distance (a dropped character costs one, not all after)."""
    n, m = len(truth), len(read)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (truth[i - 1] != read[j - 1]))
    return max(0, n - d[n][m])


@dataclass
class EvalResult:
    by_kind: dict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_colour: dict[tuple[str, str], _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    by_province: dict[tuple[str, str], _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    times: list[tuple[float, str]] = field(default_factory=list)
    kind_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, str, str, float]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {}
        for kind, t in sorted(self.by_kind.items()):
            out[f"{kind}_images"] = t.n
            out[f"{kind}_full_plate_accuracy_pct"] = t.pct(t.full, t.n)
            low, high = wilson_pct(t.full, t.n)  # a kind is only tallied with an image in it
            out[f"{kind}_full_plate_accuracy_low95_pct"] = low
            out[f"{kind}_full_plate_accuracy_high95_pct"] = high
            out[f"{kind}_char_accuracy_pct"] = t.pct(t.chars_right, t.chars)
            out[f"{kind}_province_accuracy_pct"] = t.pct(t.first_right, t.n)
            if kind == "scene":
                out["scene_detection_recall_pct"] = t.pct(t.detected, t.n)
        for (kind, col), t in sorted(self.by_colour.items()):
            out[f"{kind}_{col}_full_plate_accuracy_pct"] = t.pct(t.full, t.n)
            out[f"{kind}_{col}_char_accuracy_pct"] = t.pct(t.chars_right, t.chars)
        for kind, times in sorted(self.kind_times.items()):
            ms = sorted(times)
            out[f"{kind}_read_ms_p50"] = round(ms[len(ms) // 2], 2)
            out[f"{kind}_read_ms_p90"] = round(ms[min(len(ms) - 1, len(ms) * 9 // 10)], 2)
            out[f"{kind}_read_ms_max"] = round(ms[-1], 2)
        out["unreadable_images"] = len(self.unreadable)
        return out

    def province_lines(self) -> list[str]:
        """Per kind, full-plate accuracy by the plate's first character, the commonest first."""
        lines = []
        for kind in sorted(self.by_kind):
            rows = sorted(((t.n, p, t) for (k, p), t in self.by_province.items() if k == kind),
                          key=lambda r: (-r[0], r[1]))
            lines.append(f"{kind} by province: " + ", ".join(
                f"{p} {t.pct(t.full, t.n)} % of {n}" for n, p, t in rows))
        return lines


def _center_inside(box: tuple[int, int, int, int], bbox: tuple[int, int, int, int] | None) -> bool:
    if bbox is None:
        return True
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    bx, by, bw, bh = bbox
    return bx <= cx <= bx + bw and by <= cy <= by + bh


# Car paints a loosely framed plate is shown on (BGR): grey, silver, red, black, white, blue.
_PAINTS = ((60, 60, 60), (170, 170, 170), (30, 30, 150), (20, 20, 20), (225, 225, 225),
           (120, 60, 20))


def framed_loosely(crop: np.ndarray, margin: float, seed: int, slant: float = 0.0) -> np.ndarray:
    """A tight crop as a camera doing its own detection frames it: on car paint, with margin of
    its width at each side and twice margin of its height above and below.

    slant > 0: the plate is also seen at an angle, the car turned away from the camera: one end
    (left or right, by seed) is slant of the plate's height shorter at the top and at the
    bottom, with paint showing around it.
    """
    rng = np.random.default_rng(seed)
    h, w = crop.shape[:2]
    mx, my = round(w * margin), round(h * 2 * margin)
    paint = np.array(_PAINTS[int(rng.integers(len(_PAINTS)))], np.float32)
    out = paint + rng.normal(0.0, 8.0, (h + 2 * my, w + 2 * mx, 3)).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if not slant:
        out[my : my + h, mx : mx + w] = crop
        return out
    far_left = bool(rng.integers(2))
    cut = slant * h
    left, right = (cut, 0.0) if far_left else (0.0, cut)
    paste_into_quad(out, crop, side_view(mx, my, w, h, left, right))
    return out


def scaled_to_width(crop: np.ndarray, width: int) -> np.ndarray:
    """The crop scaled to width pixels, its aspect kept: a plate seen nearer or farther."""
    h, w = crop.shape[:2]
    f = width / w
    return cv2.resize(crop, (width, max(1, round(h * f))),
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


def turned(crop: np.ndarray, degrees: float, seed: int) -> np.ndarray:
    """The crop turned by degrees (one way or the other, by seed), as a camera mounted a little
    askew sees it: on a canvas grown to hold all of it, the corners filled from its edges."""
    return rotated_whole(crop, degrees if seed % 2 else -degrees)


@dataclass(frozen=True, slots=True)
class CropView:
    """How each crop is shown before it is read: scaled to width (0: as it is), framed loosely
    with a margin, seen at an angle (slant), turned by degrees (rotate), in that order."""

    width: int = 0
    loose: float = 0.0
    slant: float = 0.0
    rotate: float = 0.0

    def apply(self, crop: np.ndarray, name: str) -> np.ndarray:
        seed = zlib.crc32(name.encode())
        if self.width:
            crop = scaled_to_width(crop, self.width)
        if self.loose or self.slant:
            crop = framed_loosely(crop, self.loose, seed, self.slant)
        if self.rotate:
            crop = turned(crop, self.rotate, seed)
        return crop


def evaluate(folder: Path, recognizer: Recognizer, view: CropView = CropView()) -> EvalResult:
    """Every image read; crops are first shown as view says (see CropView)."""
    items = read_labels(folder)
    result = EvalResult()
    for item in items:
        _one(item, recognizer, result, view)
    return result


def _one(item: Labelled, rec: Recognizer, result: EvalResult, view: CropView) -> None:
    image = read_image(item.path)
    if image is None:
        log.warning("cannot read %s", item.path)
        result.unreadable.append(str(item.path))
        return
    if item.kind == "crop":
        image = view.apply(image, item.path.name)
    t0 = time.perf_counter()
    if item.kind == "crop":
        reading = rec.read_crop(image)
        read, detected = (reading.text if reading else None), reading is not None
        conf = reading.confidence if reading else 0.0
    else:
        readings = rec.read_frame(image)
        # A scene counts as detected when any reading sits where the plate is (manifest bbox),
        # or, without a bbox, when the plate was read at all.
        bbox = _bbox_from_manifest(item)
        hits = [r for r in readings if _center_inside(r.box, bbox)] if bbox else readings
        detected = bool(hits) if bbox else any(r.text == item.plate for r in readings)
        best = next((r for r in hits if r.text == item.plate), hits[0] if hits else None)
        read, conf = (best.text, best.confidence) if best else (None, 0.0)
    ms = (time.perf_counter() - t0) * 1000
    result.times.append((ms, item.path.name))
    result.kind_times[item.kind].append(ms)
    colour = item.colour or "unknown"
    for tally in (result.by_kind[item.kind], result.by_colour[(item.kind, colour)],
                  result.by_province[(item.kind, item.plate[:1])]):
        tally.add(item.plate, read, detected)
    if read != item.plate:
        result.errors.append((item.path.name, item.plate, read or "-", conf))


_MANIFEST_CACHE: dict[Path, dict[str, tuple[int, int, int, int]]] = {}
_BOX_NOTE = re.compile(r"(\d+),(\d+),(\d+),(\d+)\s*$")  # a manifest note ending in a plate's x1,y1,x2,y2


def _bbox_from_manifest(item: Labelled) -> tuple[int, int, int, int] | None:
    folder = item.path.parent
    if folder not in _MANIFEST_CACHE:
        boxes: dict[str, tuple[int, int, int, int]] = {}
        for row in manifest_rows(folder):
            m = _BOX_NOTE.search(row.get("note") or "")
            if m and row.get("file"):
                x1, y1, x2, y2 = map(int, m.groups())
                boxes[row["file"]] = (x1, y1, x2 - x1, y2 - y1)
        _MANIFEST_CACHE[folder] = boxes
    return _MANIFEST_CACHE[folder].get(item.path.name)
