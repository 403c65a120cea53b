"""Turn a plate region into the recognizer's input: warp, split two-row plates, resize."""

from __future__ import annotations

import cv2
import numpy as np

INPUT_W, INPUT_H = 96, 32
# Where the two rows of a 440x220 plate meet, as a share of its height (top row 15-75 mm,
# bottom row 90-200 mm).
TWO_ROW_SPLIT = 0.38


def warp_quad(image: np.ndarray, quad: np.ndarray, out_w: int, out_h: int) -> np.ndarray:
    """Warp the quadrilateral (tl, tr, br, bl) of image to an upright out_w x out_h image."""
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def paste_into_quad(canvas: np.ndarray, image: np.ndarray, quad: np.ndarray) -> None:
    """Draw image onto canvas, in place, warped so that its corners land on quad (tl, tr, br,
    bl): the inverse of warp_quad, as a plate seen at an angle looks."""
    h, w = image.shape[:2]
    square = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(square, quad.astype(np.float32))
    size = (canvas.shape[1], canvas.shape[0])
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size) > 127
    canvas[inside] = cv2.warpPerspective(image, m, size)[inside]


def side_view(x: float, y: float, w: float, h: float, cut_left: float,
              cut_right: float) -> np.ndarray:
    """The corners (tl, tr, br, bl) of a w x h plate at (x, y) seen from one side: each end
    cut_left or cut_right shorter at the top and at the bottom (for paste_into_quad)."""
    return np.array([[x, y + cut_left], [x + w, y + cut_right], [x + w, y + h - cut_right],
                     [x, y + h - cut_left]], np.float32)


def rotated_whole(image: np.ndarray, degrees: float) -> np.ndarray:
    """image turned counter-clockwise by degrees on a canvas grown to hold all of it, the
    corners filled from its edges."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    out_w, out_h = round(w * cos + h * sin), round(w * sin + h * cos)
    m[0, 2] += (out_w - w) / 2
    m[1, 2] += (out_h - h) / 2
    return cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def stitch_rows(plate: np.ndarray, split: float = TWO_ROW_SPLIT) -> np.ndarray:
    """Lay a two-row plate out as one row: the top row's middle beside the bottom row.

    The recognizer reads left to right along one line (CTC), so the province and letter of the
    top row are placed before the serial, squeezed into about two character widths.
    """
    h, w = plate.shape[:2]
    cut = max(1, min(h - 1, round(h * split)))
    top = plate[:cut, round(w * 0.18) : round(w * 0.82)]
    bottom = plate[cut:]
    bh = bottom.shape[0]
    top = cv2.resize(top, (max(1, round(w * 0.42)), bh), interpolation=cv2.INTER_AREA)
    return np.hstack([top, bottom])


def to_input(crop: np.ndarray) -> np.ndarray:
    """BGR uint8 crop -> the recognizer's INPUT_H x INPUT_W BGR uint8 image."""
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    interp = cv2.INTER_AREA if crop.shape[1] > INPUT_W else cv2.INTER_LINEAR
    return cv2.resize(crop, (INPUT_W, INPUT_H), interpolation=interp)


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four corners of a plate in any order -> tl, tr, br, bl.

    Sorting by x + y breaks for plates turned by 20 degrees or more; instead go round the centre
    and start where the edge to the next corner points most nearly to the right (the top edge,
    the longer one, of a plate turned by less than 45 degrees).
    """
    pts = pts.reshape(4, 2).astype(np.float32)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    ring = pts[np.argsort(angles)]  # clockwise on screen (y grows downwards)
    best, best_score = ring, -np.inf
    for k in range(4):
        cand = np.roll(ring, -k, axis=0)
        top = cand[1] - cand[0]
        side = cand[3] - cand[0]
        length = float(np.linalg.norm(top))
        if length == 0:
            continue
        # Rightward and long: the top edge of a plate, not its short side.
        score = top[0] / length + 0.5 * length / max(float(np.linalg.norm(side)), 1e-3)
        if score > best_score:
            best, best_score = cand, score
    return best.astype(np.float32)
