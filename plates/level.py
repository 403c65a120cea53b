"""The tilt of a plate crop, and a crop turned level with the box of what is read in it mapped back.

Cameras mounted a little askew, and crops taken at an angle, hand over plates turned by a few
degrees. The tilt is the angle at which the crop's horizontal edges (the plate's top and bottom
borders, the characters' tops and feet) line up best: turned by it, the sums of edge energy
along the rows are most peaked.
"""

from __future__ import annotations

import cv2
import numpy as np

from plates.detect import Box

_WIDTH = 128  # the crop is measured at this width
_COARSE = np.arange(-10.0, 10.01, 2.0)
_MIN_W, _MIN_H = 20, 8  # the smallest plate worth reading again, in pixels


def _horizontal_edges(crop: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    small = cv2.resize(grey, (_WIDTH, max(8, round(h * _WIDTH / w))), interpolation=cv2.INTER_AREA)
    return np.abs(cv2.Sobel(small.astype(np.float32), cv2.CV_32F, 0, 1, ksize=3))


def _peakedness(edges: np.ndarray, degrees: float) -> float:
    h, w = edges.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    rows = cv2.warpAffine(edges, m, (w, h), flags=cv2.INTER_LINEAR).sum(axis=1)
    return float((rows * rows).sum())


def tilt(crop: np.ndarray) -> float:
    """Degrees (-11 to 11, whole) the plate in a BGR crop is turned counter-clockwise; 0 where its
    rows line up best as it is. Searched in steps of 2 degrees, then 1 either side."""
    edges = _horizontal_edges(crop)
    score = {float(a): _peakedness(edges, a) for a in _COARSE}
    best = max(score, key=lambda a: score[a])
    for a in (best - 1.0, best + 1.0):
        score[a] = _peakedness(edges, a)
    return max(score, key=lambda a: score[a])


def levelled(crop: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(crop turned back by degrees and cut to the upright rectangle whose corners its edges
    pass through; the 2 x 3 matrix that takes that image's points back into crop), or None
    where that rectangle is smaller than a plate (_MIN_W x _MIN_H).

    A camera's detector frames a turned plate with the upright box around it, so the plate's
    corners touch the crop's edges, and turned level, that rectangle is the plate. A loose crop
    keeps its plate and some of its margin."""
    height, width = crop.shape[:2]
    turn = np.radians(abs(degrees))
    cos, sin = float(np.cos(turn)), float(np.sin(turn))
    shrink = cos * cos - sin * sin
    inner_w = (width * cos - height * sin) / shrink
    inner_h = (height * cos - width * sin) / shrink
    if inner_w < _MIN_W or inner_h < _MIN_H:
        return None
    m = cv2.getRotationMatrix2D((width / 2, height / 2), -degrees, 1.0)
    m[0, 2] += (inner_w - width) / 2  # the crop's centre onto the rectangle's
    m[1, 2] += (inner_h - height) / 2
    upright = cv2.warpAffine(crop, m, (round(inner_w), round(inner_h)), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    return upright, cv2.invertAffineTransform(m)


def box_back(box: Box, back: np.ndarray, shape: tuple[int, ...]) -> Box:
    """A levelled image's box (x, y, w, h) as the upright box around it in the crop of that
    shape, clipped to the crop."""
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]], np.float64)
    pts = corners @ back.T
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(shape[1], int(x1)), min(shape[0], int(y1))
    return x0, y0, x1 - x0, y1 - y0
