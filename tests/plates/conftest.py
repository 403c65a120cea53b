"""Shared fixtures: one loaded recognizer, and plates rendered by the project's generator."""

from __future__ import annotations

import os

import pytest

from plates.recognizer import Recognizer

# Render with the fonts CI installs (fonts-wqy-zenhei, fonts-dejavu-core), so that the images the
# tests make are the same on every machine whatever else is installed.
os.environ.setdefault("PLATES_FONTS", "wqy-zenhei.ttc,DejaVuSansCondensed-Bold.ttf")


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    """On OpenCV's DNN module, the runtime every box has (test_plates_recognizer checks that
    onnxruntime, the default where installed, reads alike)."""
    return Recognizer(backend="opencv")
