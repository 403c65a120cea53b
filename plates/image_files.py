"""Image files on paths the user gives: read and written by Python, coded by OpenCV.

A zip packed on a Chinese Windows PC and unzipped on Linux leaves its names as GBK bytes, which
Python hands on surrogate-escaped (PEP 383). Given such a name, cv2.imread and cv2.imwrite crash
the process (a segmentation fault: nothing printed, the other images unread), so the file is
opened by Python, which takes any name the system does, and OpenCV only decodes or encodes bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


def read_image(path: str | Path) -> np.ndarray | None:
    """The image as 8-bit BGR (turned as its EXIF says, as cv2.imread does), or None when the
    file cannot be opened or holds no image OpenCV can decode."""
    try:
        data = np.fromfile(path, np.uint8)
    except OSError:
        return None
    if not data.size:  # imdecode asserts on no bytes; imread says None
        return None
    image: np.ndarray | None = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image


def write_image(path: Path, image: np.ndarray) -> None:
    """Write the image in the format its name's suffix says (.png, .jpg); OSError when it cannot
    be encoded or written."""
    try:
        ok, data = cv2.imencode(path.suffix, image)
    except cv2.error as exc:  # a suffix OpenCV has no encoder for
        raise OSError(f"{path.name}: no image format OpenCV writes ends so; give .png or .jpg") from exc
    if not ok:
        raise OSError(f"{path.name}: OpenCV could not encode the image")
    path.write_bytes(data.tobytes())


def printable(name: str | Path) -> str:
    """A file name as it can be printed: bytes that are not UTF-8 (a GBK name) shown as U+FFFD,
    where printing the surrogate-escaped name would raise UnicodeEncodeError."""
    return os.fsencode(name).decode("utf-8", "replace")
