"""`Recognizer`: find, rectify and read plates in frames or crops with the shipped model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from plates import colour
from plates.decode import Decoded, decode, log_softmax
from plates.detect import Candidate, expand, find_candidates
from plates.model import PlateModel
from plates.reading import Reading
from plates.rectify import INPUT_H, INPUT_W, stitch_rows, to_input, warp_quad

log = logging.getLogger(__name__)

# Plates this close to 2:1 may be two-row plates; they are also read stitched into one row.
TWO_ROW_MAX_ASPECT = 2.6
# A crop read this confidently as a whole needs no search for the plate inside it.
CROP_FAST_CONFIDENCE = 0.85


@dataclass(frozen=True, slots=True)
class _Hypothesis:
    image: np.ndarray  # recognizer input
    plate: np.ndarray  # rectified plate (for colour)
    box: tuple[int, int, int, int]
    rows: int


class Recognizer:
    """Reads Chinese plates. `min_confidence` drops readings the lane should not act on."""

    def __init__(self, model_path: Path | None = None, min_confidence: float = 0.5,
                 backend: str = "opencv") -> None:
        self.model = PlateModel(model_path, backend)
        self.min_confidence = min_confidence

    def _read(self, hyps: list[_Hypothesis]) -> list[tuple[_Hypothesis, Decoded]]:
        if not hyps:
            return []
        logits = self.model.logits([h.image for h in hyps])
        out = []
        for h, lg in zip(hyps, logits, strict=True):
            d = decode(log_softmax(lg))
            if d is not None:
                out.append((h, d))
        return out

    def _to_reading(self, h: _Hypothesis, d: Decoded) -> Reading:
        return Reading(d.text, colour.classify(h.plate, d.text), d.confidence, h.box, h.rows, d.fmt)

    def _hypotheses(self, image: np.ndarray, cand: Candidate) -> list[_Hypothesis]:
        quad = expand(cand.quad, 0.04, 0.12)
        plate = warp_quad(image, quad, INPUT_W * 2, INPUT_H * 2)
        hyps = [_Hypothesis(to_input(plate), plate, cand.box, 1)]
        # The blob's corners are often off (glare, a bracket, a split blob); the upright box
        # around it with loose margins, as the recognizer was trained to read, often is not.
        x, y, w, h = cand.box
        ih, iw = image.shape[:2]
        x0, x1 = max(0, int(x - 0.12 * w)), min(iw, int(x + 1.12 * w))
        y0, y1 = max(0, int(y - 0.2 * h)), min(ih, int(y + 1.2 * h))
        if x1 - x0 > 8 and y1 - y0 > 4:
            loose = image[y0:y1, x0:x1]
            hyps.append(_Hypothesis(to_input(loose), loose, cand.box, 1))
        if cand.aspect < TWO_ROW_MAX_ASPECT:
            tight = warp_quad(image, expand(cand.quad, 0.02, 0.03), 220, 110)
            hyps.append(_Hypothesis(to_input(stitch_rows(tight)), tight, cand.box, 2))
        return hyps

    def read_frame(self, image_bgr: np.ndarray,
                   roi: tuple[int, int, int, int] | None = None) -> list[Reading]:
        """Every plate in a frame (inside roi = x, y, w, h when given), most confident first."""
        image_bgr = _check(image_bgr)
        hyps = [h for c in find_candidates(image_bgr, roi) for h in self._hypotheses(image_bgr, c)]
        readings = [self._to_reading(h, d) for h, d in self._read(hyps)
                    if d.confidence >= self.min_confidence]
        readings.sort(key=lambda r: -r.confidence)
        kept: list[Reading] = []
        for r in readings:  # one reading per plate: the single- and two-row reads overlap
            if all(_overlap(r.box, k.box) < 0.3 for k in kept):
                kept.append(r)
        return kept

    def read_crop(self, image_bgr: np.ndarray) -> Reading | None:
        """The plate in a crop framed by a camera or a lane ROI (loose margins are fine)."""
        image_bgr = _check(image_bgr)
        h, w = image_bgr.shape[:2]
        whole = (0, 0, w, h)
        hyps = [_Hypothesis(to_input(image_bgr), image_bgr, whole, 1)]
        best = self._best(self._read(hyps))
        if best is not None and best.confidence >= CROP_FAST_CONFIDENCE:
            return best
        more: list[_Hypothesis] = []
        if w / max(h, 1) < TWO_ROW_MAX_ASPECT:
            more.append(_Hypothesis(to_input(stitch_rows(image_bgr)), image_bgr, whole, 2))
        for cand in find_candidates(image_bgr, limit=1, max_share=1.0):
            if cand.box[2] >= 0.3 * w:
                more += self._hypotheses(image_bgr, cand)
        found = self._best(self._read(more))
        if found is not None and (best is None or found.confidence > best.confidence):
            best = found
        if best is None or best.confidence < self.min_confidence:
            return None
        return best

    def _best(self, pairs: list[tuple[_Hypothesis, Decoded]]) -> Reading | None:
        if not pairs:
            return None
        h, d = max(pairs, key=lambda p: p[1].confidence)
        return self._to_reading(h, d)


def _check(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("expected a non-empty BGR image as a numpy array")
    if image.ndim == 2 or image.shape[2] == 1:  # infra-red cameras deliver grey frames
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / max(1, min(aw * ah, bw * bh))
