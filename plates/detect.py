"""Plate candidates in a full frame: colour blobs and dense vertical-edge regions.

Deliberately cheap (a few ms on a 1280x720 frame): it proposes regions, and the recognizer plus
the grammar decide which of them are plates. Blue, yellow and green plates are found by colour;
white and black ones, and plates whose colour the light has washed out, by their edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from plates.rectify import order_corners

WORK_SIDE = 800  # frames are searched at most this wide; plates stay >= ~25 px wide
MAX_CANDIDATES = 8
# Candidates overlapping a better one by more than this are the same region, framed alike.
NMS_IOU = 0.7
# Plates this close to 2:1 may be two-row plates; the recognizer also reads them stitched into
# one row.
TWO_ROW_MAX_ASPECT = 2.6
# A two-row plate's top row stands this many bottom-row heights above it (GA 36: 60 mm over 110).
TOP_ROW_REACH = 0.9
# A blob whose one end is this many times as tall as the other is a plate seen at an angle.
# Chosen on held-out crops: below it the simplified hull frames plates as well.
SLANTED_ENDS = 1.3


Box = tuple[int, int, int, int]  # x, y, w, h
# Plate yellow in OpenCV's HSV (lower and upper bounds).
_YELLOW = ((12, 100, 90), (34, 255, 255))


@dataclass(frozen=True, slots=True)
class Candidate:
    quad: np.ndarray  # 4 x 2 float32, tl tr br bl, frame pixels
    score: float
    # "colour", "green" (a new-energy green blob: the plate's white top may lie above it),
    # "edges" or "tightened" (an edge region cut to the plate colour)
    source: str

    @property
    def box(self) -> Box:
        x0, y0 = self.quad.min(axis=0)
        x1, y1 = self.quad.max(axis=0)
        return int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0))

    @property
    def aspect(self) -> float:
        tl, tr, br, bl = self.quad
        w = float(np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
        h = float(np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
        return w / max(h, 1e-3)

    @property
    def may_be_two_rows(self) -> bool:
        return self.aspect < TWO_ROW_MAX_ASPECT


def _colour_masks(hsv: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Masks of plate colours, each with the source its candidates get: "green" for the colour
    of new-energy plates, which fade towards white at the top, "colour" for the rest."""
    blue = cv2.inRange(hsv, (98, 70, 35), (130, 255, 255))
    yellow = cv2.inRange(hsv, *_YELLOW)
    green = cv2.inRange(hsv, (38, 40, 50), (90, 255, 255))
    # The broad masks run a plate into a dark car of the same hue; a plate is brighter than the
    # paint around it. New-energy plates are a pale, barely saturated green.
    bright_blue = cv2.inRange(hsv, (100, 100, 90), (125, 255, 255))
    pale_green = cv2.inRange(hsv, (35, 20, 130), (90, 170, 255))
    return [(blue, "colour"), (yellow, "colour"), (green, "green"), (bright_blue, "colour"),
            (pale_green, "green")]


def _edge_mask(grey: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3)
    mag = cv2.convertScaleAbs(gx)
    _, mask = cv2.threshold(mag, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return mask


def _quad_of(contour: np.ndarray, rect: tuple) -> np.ndarray:
    """The blob's four corners (rect: its minimum-area rectangle).

    A plate seen at an angle (the car turned away from the camera) is a trapezoid, its near end
    taller than its far one. The hull's points furthest out along each diagonal of the blob's
    minimum-area rectangle follow its slanted edges; the rectangle would frame the far end with
    paint, and the hull simplified to four points is often skewed by a ragged edge. So where
    those points make one end SLANTED_ENDS times as tall as the other, they are the corners;
    otherwise the hull's four corners where it simplifies to four, else the rectangle's.
    """
    hull = cv2.convexHull(contour)
    far = _diagonal_extremes(hull.reshape(-1, 2).astype(np.float32), rect)
    ends = np.linalg.norm(far[[3, 2]] - far[[0, 1]], axis=1)  # along the rectangle's long side
    if ends.max() >= SLANTED_ENDS * max(float(ends.min()), 1.0):
        return order_corners(far)
    approx = cv2.approxPolyDP(hull, 0.05 * cv2.arcLength(hull, True), True)
    if len(approx) == 4:
        return order_corners(approx.reshape(4, 2))
    return order_corners(cv2.boxPoints(rect))


def _diagonal_extremes(points: np.ndarray, rect: tuple) -> np.ndarray:
    """The points furthest towards each corner of rect, in its own axes scaled to a unit square."""
    (cx, cy), (rw, rh), angle = rect
    if rw < rh:  # u along the long side
        rw, rh, angle = rh, rw, angle + 90
    t = np.deg2rad(angle)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    u = (dx * np.cos(t) + dy * np.sin(t)) / max(rw, 1.0)
    v = (dy * np.cos(t) - dx * np.sin(t)) / max(rh, 1.0)
    return np.array([points[np.argmax(su * u + sv * v)]
                     for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))], np.float32)


def _from_mask(mask: np.ndarray, kernel: tuple[int, int], source: str, min_w: float,
               edges_sum: np.ndarray, max_share: float) -> list[Candidate]:
    """source "green": the plates of this mask's colour fade to white at the top (new-energy
    green), so a blob may be only their lower part; the recognizer looks above it too."""
    closer = cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, closer)
    if source == "edges":
        closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 5), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        rect = cv2.minAreaRect(c)
        (_, _), (rw, rh), _ = rect
        long, short = max(rw, rh), min(rw, rh)
        if long < min_w or short < 6 or long > mask.shape[1] * max_share:
            continue
        aspect = long / short
        bx, by, bw, bh = cv2.boundingRect(c)
        # Plates lie roughly level; a green blob may be only the lower part of its plate.
        if not 1.6 <= aspect <= (10.0 if source == "green" else 7.0) or bw < 1.2 * bh:
            continue
        fill = cv2.contourArea(c) / max(rw * rh, 1.0)
        if fill < 0.45:
            continue
        weight = 0.6 if source == "edges" else 1.0
        score = _score(aspect, (bx, by, bw, bh), edges_sum) * fill * weight
        out.append(Candidate(_quad_of(c, rect), score, source))
    return out


def _score(aspect: float, box: Box, edges_sum: np.ndarray) -> float:
    # Plates are about 3:1 (one row) or 2:1 (two rows); prefer those shapes.
    shape = max(np.exp(-abs(np.log(aspect / 3.2))), np.exp(-abs(np.log(aspect / 2.0))))
    # Characters make plates dense in vertical edges; smooth paint and sky are not.
    x, y, w, h = box
    density = (edges_sum[y + h, x + w] - edges_sum[y, x + w] - edges_sum[y + h, x]
               + edges_sum[y, x]) / (255.0 * max(1, w * h))
    texture = min(1.0, density / 0.2) * (1.0 if density < 0.7 else 0.5)
    return float(shape * texture)


def _tightened(small: np.ndarray, cands: list[Candidate], edges_sum: np.ndarray,
               n: int) -> list[Candidate]:
    """Edge regions cut down to the plate colour inside them (bumper and grille trimmed off):
    the trimmed box has the plate's shape and ranks as it should."""
    out = []
    for c in cands[:n]:
        box = tighten(small, c.box)
        if box is None or _iou(box, c.box) > 0.8:
            continue
        x, y, w, h = box
        quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
        out.append(Candidate(quad, 0.9 * _score(w / h, box, edges_sum), "tightened"))
    return out


def _intersection(a: Box, b: Box) -> int:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih


def _iou(a: Box, b: Box) -> float:
    inter = _intersection(a, b)
    return inter / max(1, a[2] * a[3] + b[2] * b[3] - inter)


def overlap(a: Box, b: Box) -> float:
    """How much of the smaller box the two share (1.0: one inside the other)."""
    return _intersection(a, b) / max(1, min(a[2] * a[3], b[2] * b[3]))


def grown(box: Box, mx: float, my: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of box grown by mx of its width each side and my of its height above and
    below, clipped to an image of that shape, at least 2 px each way."""
    x, y, w, h = box
    ih, iw = shape[:2]
    x0, y0 = max(0, int(x - mx * w)), max(0, int(y - my * h))
    x1 = min(iw, max(int(x + (1 + mx) * w), x0 + 2))
    y1 = min(ih, max(int(y + (1 + my) * h), y0 + 2))
    return x0, y0, x1, y1


def faded_top(box: Box) -> Box:
    """A green blob's box grown upwards to take in its plate's top, which fades to white on
    new-energy plates and escapes the colour mask: twice as tall, and at least a 3:1 plate.
    (No margin below: the blob is the bottom of the plate, or already reaches past it.)"""
    x, y, w, h = box
    tall = max(2 * h, round(w / 3.0))
    return x, y + h - tall, w, tall


def yellow_left(image: np.ndarray, box: Box) -> Box | None:
    """A green blob's box grown to the left over a large new-energy plate's yellow part (its
    left 27 %: province and letter), which the green mask does not see; None when the strip
    to the left of the blob is not mostly plate yellow."""
    x, y, w, h = box
    extra = round(w * 0.27 / 0.73)
    strip = image[max(0, y) : max(0, y + h), max(0, x - extra) : max(0, x)]
    if strip.size == 0:
        return None
    yellow = cv2.inRange(cv2.cvtColor(strip, cv2.COLOR_BGR2HSV), *_YELLOW)
    if yellow.mean() < 0.4 * 255:
        return None
    return x - extra, y, w + extra, h


def find_candidates(image: np.ndarray, roi: Box | None = None,
                    limit: int = MAX_CANDIDATES, max_share: float = 0.8) -> list[Candidate]:
    """Plate-like regions of a BGR frame (inside roi = x, y, w, h when given).

    max_share: the widest a plate may be, as a share of the image width (crops: up to 1).
    Edge regions are also proposed cut down to the plate colour inside them (bumper and grille
    trimmed off), in crops as in frames.
    """
    ox, oy = 0, 0
    if roi is not None:
        x, y, w, h = roi
        ox, oy = max(0, x), max(0, y)
        image = image[oy : max(oy, y + h), ox : max(ox, x + w)]
    if image.size == 0:
        return []
    scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
    # INTER_LINEAR: INTER_AREA at a fractional scale costs 10 ms a frame on one core; the masks
    # are coarse and closed afterwards, so the aliasing does not matter.
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR) \
        if scale < 1.0 else image
    min_w = 22.0
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = _edge_mask(grey)
    edges_sum = cv2.integral(edges, sdepth=cv2.CV_64F)
    cands: list[Candidate] = []
    for mask, source in _colour_masks(hsv):
        cands += _from_mask(mask, (15, 3), source, min_w, edges_sum, max_share)
    edge_cands = sorted(_from_mask(edges, (15, 3), "edges", min_w, edges_sum, max_share),
                        key=lambda c: -c.score)
    cands += edge_cands + _tightened(small, edge_cands, edges_sum, limit)
    cands.sort(key=lambda c: -c.score)
    kept: list[Candidate] = []
    for c in cands:
        # A green blob stays beside a region that overlaps it: the recognizer looks above it.
        # So does a two-row shape beside a one-row one: a two-row plate's bottom row alone is
        # a one-row shape, and often the one with the denser edges.
        if c.source == "green" or all(_iou(c.box, k.box) < NMS_IOU
                                      or k.may_be_two_rows != c.may_be_two_rows for k in kept):
            kept.append(c)
        if len(kept) >= limit:
            break
    return [Candidate(c.quad / scale + np.array([ox, oy], np.float32), c.score, c.source)
            for c in kept]


def expand(quad: np.ndarray, mx: float, my: float) -> np.ndarray:
    """Grow a tl-tr-br-bl quad by mx of its width on each side and my of its height."""
    tl, tr, br, bl = quad.astype(np.float32)
    right = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    return np.array([tl - right * mx - down * my, tr + right * mx - down * my,
                     br + right * mx + down * my, bl - right * mx + down * my], np.float32)


def tighten(image: np.ndarray, box: Box) -> Box | None:
    """The plate's own box inside a loose candidate box, from its background colour.

    Edge candidates run into bumper and grille, and colour blobs into paint of the same hue;
    inside the candidate, the columns and rows mostly in the plate's colour are the plate.
    None when no plate colour dominates (white and black plates: the box stays as found).
    """
    ih, iw = image.shape[:2]
    x0, y0, x1, y1 = grown(box, 0.1, 0.3, image.shape)
    # Much further up: the box may hold only a two-row plate's bottom row (its dense big glyphs).
    y0 = max(0, int(box[1] - TOP_ROW_REACH * box[3]))
    region = image[y0:y1, x0:x1]
    if region.shape[0] < 6 or region.shape[1] < 12:
        return None
    step = max(1, region.shape[1] // 160)  # a 160-px-wide view is plenty for a profile
    hsv = cv2.cvtColor(region[::step, ::step], cv2.COLOR_BGR2HSV)
    masks = [m > 0 for m in _plate_colour_masks(hsv)]
    mask = max(masks, key=lambda m: int(m.sum()))
    if mask.mean() < 0.15:
        return None
    # Paint of the plate's hue is darker than the plate: keep the bright part of the colour.
    values = hsv[..., 2][mask].reshape(-1, 1)
    cut, _ = cv2.threshold(values, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    lit = values[:, 0] > cut
    if 0.08 <= lit.mean() < 1.0 and values[lit].mean() - values[~lit].mean() > 50:
        mask = mask & (hsv[..., 2] > cut)
    # A white glyph column is mostly not plate-coloured: bridge gaps of up to a glyph's width.
    cols = _longest_run(mask.mean(axis=0) >= 0.3, max_gap=max(1, mask.shape[1] // 14))
    if cols is None:
        return None
    rows = _longest_run(mask[:, cols[0] : cols[1]].mean(axis=1) >= 0.3)
    if rows is None:
        return None
    bx, by = x0 + cols[0] * step, y0 + rows[0] * step
    bw = min((cols[1] - cols[0]) * step, iw - bx)
    bh = min((rows[1] - rows[0]) * step, ih - by)
    if bw < 22 or bh < 7 or not 1.5 <= bw / bh <= 7.0:
        return None
    return bx, by, bw, bh


def _plate_colour_masks(hsv: np.ndarray) -> list[np.ndarray]:
    blue = cv2.inRange(hsv, (98, 80, 60), (128, 255, 255))
    yellow = cv2.inRange(hsv, *_YELLOW)
    green = cv2.inRange(hsv, (35, 20, 100), (90, 255, 255))
    return [blue, yellow, green]


def _longest_run(flags: np.ndarray, max_gap: int = 1) -> tuple[int, int] | None:
    """Start and end (exclusive) of the longest run of True, bridging gaps up to max_gap."""
    best, start, gap = None, None, 0
    for i, f in enumerate(list(flags) + [False] * (max_gap + 1)):
        if f:
            start = i if start is None else start
            gap = 0
        elif start is not None:
            gap += 1
            if gap > max_gap:
                end = i - gap + 1
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
                start, gap = None, 0
    return best
