"""`Recognizer`: find, rectify and read plates in frames or crops with the shipped model."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from plates import colour
from plates.decode import Decoded, decode, log_softmax
from plates.detect import (
    TWO_ROW_MAX_ASPECT,
    Box,
    Candidate,
    expand,
    faded_top,
    find_candidates,
    grown,
    overlap,
    tighten,
    yellow_left,
)
from plates.level import box_back, levelled, tilt
from plates.model import PlateModel
from plates.reading import Reading
from plates.rectify import INPUT_H, INPUT_W, stitch_rows, to_input, warp_quad

log = logging.getLogger(__name__)

# A crop read this confidently as a whole needs no search for the plate inside it. Only a
# near-certain whole look may skip it: a real plate in a loose crop (10-25 % margins) is often
# read as a whole with a wrong province at 0.9-0.99, and right once found and framed the way
# the real training crops are.
CROP_FAST_CONFIDENCE = 0.998
# Crops wider than this are read shrunk to it. The plate in a loose crop is then still 150-190
# px wide, more than the recognizer's input (96 px) needs and about its closest look (192 px).
# Read larger, loose crops read worse (held-out real crops framed at 0.25, 140-500 px wide: 95.6 %
# when shrunk only above 400 px, 98.9 % above 224; likely the detector's closing, sized for
# frame plates, cuts a large plate into characters), and cost more to search (docs/plates.md,
# *A smaller work width*).
CROP_WORK_W = 224
MIN_CROP_H, MIN_CROP_W = 8, 16  # smaller (as read) holds no readable plate
# A crop read less surely than this (or not at all) is read again turned level, if it is turned
# (docs/plates.md, *Turned crops, read again level*); the surer of the two readings is kept,
# as sure as the two looks are of it together.
LEVEL_BELOW = 0.99
# A frame candidate whose first look reads at least PROMISING (as some plate, however unsure)
# gets closer looks, unless it already reads CONFIDENT.
PROMISING = 0.005
CONFIDENT = 0.97


@dataclass(frozen=True, slots=True)
class _Hypothesis:
    image: np.ndarray  # recognizer input
    plate: np.ndarray  # rectified plate (for colour)
    box: Box
    rows: int


class Recognizer:
    """Reads Chinese plates. `min_confidence` drops readings the lane should not act on."""

    def __init__(self, model_path: Path | None = None, min_confidence: float = 0.5,
                 backend: str = "auto") -> None:
        self.model = PlateModel(model_path, backend)
        self.min_confidence = min_confidence

    def _read(self, hyps: list[_Hypothesis], floor: float) -> list[tuple[_Hypothesis, Decoded]]:
        """Each hypothesis read; those with no reading that could reach floor are dropped."""
        if not hyps:
            return []
        logits = self.model.logits([h.image for h in hyps])
        out = []
        for h, lg in zip(hyps, logits, strict=True):
            d = decode(log_softmax(lg), floor)
            if d is not None:
                out.append((h, d))
        return out

    def _to_reading(self, h: _Hypothesis, d: Decoded) -> Reading:
        return Reading(d.text, colour.classify(h.plate, d.text), d.confidence, h.box, h.rows, d.fmt)

    def _first_looks(self, image: np.ndarray, cand: Candidate) -> list[_Hypothesis]:
        """The cheap looks every candidate gets: its upright box with loose margins, the
        framing the recognizer was trained on, and, for a two-row shape, its rows stitched."""
        looks = [_loose(image, cand.box, 0.08, 0.15)]
        if cand.may_be_two_rows:
            looks.append(_two_rows(image, cand))
        return looks

    def _closer_looks(self, image: np.ndarray, cand: Candidate) -> list[_Hypothesis]:
        """More ways to frame a candidate that looked like a plate at first sight: the blob's
        corners warped upright, wider margins, the box tightened to the plate's colour, and for
        a green blob the box twice as tall upwards, and grown left over a large new-energy
        plate's yellow part."""
        hyps = [_warped(image, cand), _loose(image, cand.box, 0.15, 0.25)]
        if cand.source == "green":
            hyps.append(_loose(image, faded_top(cand.box), 0.04, 0.0))
            wider = yellow_left(image, cand.box)
            if wider is not None:
                hyps.append(_loose(image, wider, 0.04, 0.15))
        tight = tighten(image, cand.box)
        if tight is not None and (overlap(tight, cand.box) < 0.9
                                  or abs(tight[2] - cand.box[2]) > 0.1 * cand.box[2]):
            hyps.append(_loose(image, tight, 0.08, 0.15))
        return hyps

    def read_frame(self, image_bgr: np.ndarray,
                   roi: Box | None = None) -> list[Reading]:
        """Every plate in a frame (inside roi = x, y, w, h when given), most confident first.

        Two stages keep busy frames cheap: every candidate gets one look, and only those that
        read as something plate-like, but not yet confidently, get the closer looks.
        """
        image_bgr = _check(image_bgr)
        cands = find_candidates(image_bgr, roi)
        pairs = self._read([h for c in cands for h in self._first_looks(image_bgr, c)], PROMISING)
        seen: dict[Box, float] = {}
        for h, d in pairs:
            seen[h.box] = max(seen.get(h.box, 0.0), d.confidence)
        doubtful = [c for c in cands if PROMISING <= seen.get(c.box, 0.0) < CONFIDENT]
        pairs += self._read([h for c in doubtful for h in self._closer_looks(image_bgr, c)],
                            self.min_confidence)
        readings = [self._to_reading(h, d) for h, d in pairs if d.confidence >= self.min_confidence]
        readings.sort(key=lambda r: -r.confidence)
        kept: list[Reading] = []
        for r in readings:  # one reading per plate: the single- and two-row reads overlap
            if all(overlap(r.box, k.box) < 0.3 for k in kept):
                kept.append(r)
        return kept

    def read_crop(self, image_bgr: np.ndarray) -> Reading | None:
        """The plate in a crop framed by a camera or a lane ROI (loose margins and a few degrees
        of turn are fine), read at most CROP_WORK_W px wide; its box is in the crop's pixels."""
        image_bgr = _check(image_bgr)
        h, w = image_bgr.shape[:2]
        scale = min(1.0, CROP_WORK_W / w)
        if h * scale < MIN_CROP_H or w * scale < MIN_CROP_W:
            return None  # too few pixels to hold a plate anyone could read
        if scale == 1.0:
            return self._read_crop(image_bgr)
        small = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        reading = self._read_crop(small)
        if reading is None:
            return None
        x, y, w, h = reading.box
        x0, y0 = round(x / scale), round(y / scale)
        x1 = min(image_bgr.shape[1], round((x + w) / scale))
        y1 = min(image_bgr.shape[0], round((y + h) / scale))
        return replace(reading, box=(x0, y0, x1 - x0, y1 - y0))

    def _read_crop(self, image_bgr: np.ndarray) -> Reading | None:
        reading = self._search_crop(image_bgr)
        if reading is not None and reading.confidence >= LEVEL_BELOW:
            return reading
        degrees = tilt(image_bgr)
        if degrees == 0:
            return reading
        level = levelled(image_bgr, degrees)
        if level is None:
            return reading
        upright, back = level
        again = self._search_crop(upright)
        if again is None:
            return reading
        return _combined(reading, replace(again, box=box_back(again.box, back, image_bgr.shape)))

    def _search_crop(self, image_bgr: np.ndarray) -> Reading | None:
        """The crop read whole, and where that is not near-certain, the plates found in it."""
        h, w = image_bgr.shape[:2]
        whole = (0, 0, w, h)
        hyps = [_Hypothesis(to_input(image_bgr), image_bgr, whole, 1)]
        best = _best(self._read(hyps, self.min_confidence))
        if best is not None and best[1].confidence >= CROP_FAST_CONFIDENCE:
            return self._to_reading(*best)
        more: list[_Hypothesis] = []
        if w / max(h, 1) < TWO_ROW_MAX_ASPECT:
            more.append(_Hypothesis(to_input(stitch_rows(image_bgr)), image_bgr, whole, 2))
        for cand in find_candidates(image_bgr, limit=3, max_share=1.0):
            if cand.box[2] >= 0.3 * w:
                more.append(_warped(image_bgr, cand))
                if cand.box[2] < 0.9 * w:  # a box nearly the crop's width, with margins, is the crop
                    more.append(_loose(image_bgr, cand.box))
                if cand.may_be_two_rows:
                    more.append(_two_rows(image_bgr, cand))
                wider = yellow_left(image_bgr, cand.box) if cand.source == "green" else None
                if wider is not None:
                    more.append(_loose(image_bgr, wider, 0.04, 0.15))
        # Only a reading surer than the whole look's can change the answer; the floor lets the
        # grammar search skip the looks that cannot reach it.
        floor = max(self.min_confidence, best[1].confidence if best else 0.0)
        found = _best(self._read(more, floor))
        if found is not None and (best is None or found[1].confidence > best[1].confidence):
            best = found
        if best is None or best[1].confidence < self.min_confidence:
            return None
        return self._to_reading(*best)


def _combined(as_is: Reading | None, level: Reading) -> Reading:
    """One reading from a crop's two looks, as it is and levelled: the more confident one, as
    sure as the two looks are of its text together (docs/plates.md, *Turned crops, read again
    level*). Where both read that plate, the mean of their confidences, but never less than the
    look as it is; where the other read another plate, the mean of the kept one's confidence and
    the other's doubt. A look as it is that read nothing leaves the levelled one as it is.

    Taking the surer alone would make a second look a second chance to be confidently wrong."""
    if as_is is None:
        return level
    win, lose = (as_is, level) if as_is.confidence >= level.confidence else (level, as_is)
    if win.text == lose.text:
        return replace(win, confidence=max(as_is.confidence, (win.confidence + lose.confidence) / 2))
    return replace(win, confidence=(win.confidence + 1.0 - lose.confidence) / 2)


def _best(pairs: list[tuple[_Hypothesis, Decoded]]) -> tuple[_Hypothesis, Decoded] | None:
    """The most confident reading (its colour is measured only for the one returned)."""
    return max(pairs, key=lambda p: p[1].confidence) if pairs else None


def _warped(image: np.ndarray, cand: Candidate) -> _Hypothesis:
    """The candidate's corners warped upright, with a small margin."""
    plate = warp_quad(image, expand(cand.quad, 0.04, 0.12), INPUT_W * 2, INPUT_H * 2)
    return _Hypothesis(to_input(plate), plate, cand.box, 1)


def _two_rows(image: np.ndarray, cand: Candidate) -> _Hypothesis:
    """A two-row plate's rows laid side by side, as the one-line recognizer reads them."""
    plate = warp_quad(image, expand(cand.quad, 0.02, 0.03), 220, 110)
    return _Hypothesis(to_input(stitch_rows(plate)), plate, cand.box, 2)


def _loose(image: np.ndarray, box: Box, mx: float = 0.12,
           my: float = 0.2) -> _Hypothesis:
    """The upright box with margins of mx of its width and my of its height."""
    x0, y0, x1, y1 = grown(box, mx, my, image.shape)
    crop = image[y0:y1, x0:x1]
    return _Hypothesis(to_input(crop), crop, box, 1)


def _check(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise ValueError("expected a non-empty BGR image as a numpy array")
    if image.dtype != np.uint8:  # OpenCV's own message for this names none of it
        raise ValueError(f"expected an 8-bit image (uint8), got {image.dtype}: scale it to 0-255 "
                         "first, e.g. cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)")
    if image.ndim == 2 or image.shape[2] == 1:  # infra-red cameras deliver grey frames
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image
