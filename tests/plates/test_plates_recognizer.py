"""The shipped model loads through cv2.dnn and reads plates rendered by the generator."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from plate_images import SPECS, clean_crop

from plates.grammar import is_plate
from plates.model import DEFAULT_MODEL, ModelError, PlateModel
from plates.recognizer import CROP_WORK_W, Recognizer
from plates.rectify import INPUT_H, INPUT_W
from plates.synth.render import render_plate
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec


def test_model_is_small_and_loads_with_opencv_dnn() -> None:
    assert DEFAULT_MODEL.stat().st_size <= 5 * 1024 * 1024
    net = cv2.dnn.readNetFromONNX(str(DEFAULT_MODEL))
    net.setInput(cv2.dnn.blobFromImage(np.zeros((INPUT_H, INPUT_W, 3), np.uint8), 1 / 255))
    out = net.forward()
    assert out.shape[0] == 1 and out.shape[2] == 1 and out.shape[3] >= 16
    assert PlateModel().logits([np.zeros((INPUT_H, INPUT_W, 3), np.uint8)] * 3).shape[0] == 3


@pytest.mark.parametrize("spec", SPECS, ids=[s.text for s in SPECS])
def test_reads_rendered_plates(recognizer: Recognizer, spec: PlateSpec) -> None:
    reading = recognizer.read_crop(clean_crop(spec, seed=1))
    assert reading is not None
    assert (reading.text, reading.colour) == (spec.text, spec.colour)
    assert 0.5 <= reading.confidence <= 1.0


# Plates on a car's paint with wide margins (a quarter of the plate's width at the sides, half
# its height above and below), as a camera that does its own detection crops them. Read as a
# whole, each crop gives a wrong province at 0.90-0.996.
LOOSE = [
    (PlateSpec("晋X25899B", "green", 1, "new_energy_large"), 4, (108, 136, 145)),
    (PlateSpec("贵J1U7U9", "black", 1, "standard"), 81, (111, 165, 233)),
    (PlateSpec("青W1T949", "yellow", 1, "standard"), 99, (147, 165, 210)),
]


@pytest.mark.parametrize(("spec", "seed", "paint"), LOOSE, ids=[c[0].text for c in LOOSE])
def test_a_loose_crop_is_read_from_the_plate_found_inside_it(
    recognizer: Recognizer, spec: PlateSpec, seed: int, paint: tuple[int, int, int]
) -> None:
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(seed))
    h, w = plate.shape[:2]
    crop = np.empty((2 * h, w * 3 // 2, 3), np.uint8)
    crop[:] = paint
    crop[h // 2 : h // 2 + h, w // 4 : w // 4 + w] = plate
    reading = recognizer.read_crop(crop)
    assert reading is not None and reading.text == spec.text


@pytest.mark.parametrize("spec", SPECS[:5], ids=[s.text for s in SPECS[:5]])
def test_a_large_crop_reads_as_the_same_crop_shrunk_to_the_work_width(
    recognizer: Recognizer, spec: PlateSpec
) -> None:
    """A camera's 700-px crop holds no more than the recognizer needs: it is read at
    CROP_WORK_W wide (a large loose crop read in full used to lose plates the detector cut
    into characters), and its box comes back in the crop's own pixels."""
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(3), px_per_mm=1.6)
    h, w = plate.shape[:2]
    crop = np.full((2 * h, w * 3 // 2, 3), (120, 110, 100), np.uint8)
    crop[h // 2 : h // 2 + h, w // 4 : w // 4 + w] = plate
    scale = CROP_WORK_W / crop.shape[1]
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    big, shrunk = recognizer.read_crop(crop), recognizer.read_crop(small)
    assert big is not None and shrunk is not None and big.text == spec.text
    assert big.confidence == shrunk.confidence
    x, y, bw, bh = big.box
    assert x + bw <= crop.shape[1] and y + bh <= crop.shape[0]
    assert abs(bw - shrunk.box[2] / scale) <= 2 / scale


def test_reads_a_plate_in_a_full_frame(recognizer: Recognizer) -> None:
    spec = PlateSpec("皖A7K258", "blue", 1, "standard")
    frame, _, _, (x, y, w, h) = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160)
    readings = recognizer.read_frame(frame)
    assert [r.text for r in readings][:1] == [spec.text]
    rx, ry, rw, rh = readings[0].box
    assert abs(rx + rw / 2 - (x + w / 2)) < w / 4 and abs(ry + rh / 2 - (y + h / 2)) < h
    # The same frame with a region of interest elsewhere: nothing.
    assert recognizer.read_frame(frame, roi=(0, 0, 200, 200)) == []


def test_empty_frame_has_no_plates(recognizer: Recognizer) -> None:
    grey = np.full((720, 1280, 3), 128, np.uint8)
    assert recognizer.read_frame(grey) == []
    assert recognizer.read_crop(grey[:40, :120]) is None


def test_every_reading_fits_the_grammar(recognizer: Recognizer) -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):  # noise must never come out as text that is not a plate
        noise = rng.integers(0, 255, (48, 150, 3), dtype=np.uint8)
        r = recognizer.read_crop(noise)
        assert r is None or is_plate(r.text)


def test_grey_and_bad_images(recognizer: Recognizer) -> None:
    crop = clean_crop(SPECS[0], seed=2)
    r = recognizer.read_crop(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))  # infra-red cameras
    assert r is not None and r.text == SPECS[0].text
    with pytest.raises(ValueError):
        recognizer.read_crop(np.zeros((0, 0, 3), np.uint8))
    for other in (crop.astype(np.uint16) * 257, crop.astype(np.float32) / 255):
        # a 16-bit camera's frame, or one scaled to 0-1, is refused by name, not misread
        with pytest.raises(ValueError, match=f"got {other.dtype}: scale it to 0-255"):
            recognizer.read_crop(other)
        with pytest.raises(ValueError, match="8-bit"):
            recognizer.read_frame(other)


def test_runtime_never_imports_torch() -> None:
    code = (
        "import sys, numpy as np, plates; r = plates.Recognizer(); "
        "r.read_frame(np.zeros((720, 1280, 3), np.uint8)); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_onnxruntime_reads_a_frame_like_opencv(recognizer: Recognizer) -> None:
    """The faster runtime gives the same readings, with every candidate of a frame in one run."""
    spec = PlateSpec("皖A7K258", "blue", 1, "standard")
    frame, _, _, _ = render_scene(random.Random(2), 1280, 720, spec=spec, plate_w=160)
    fast = Recognizer(backend="onnxruntime")
    assert recognizer.model.backend == "opencv"
    got = fast.read_frame(frame)
    want = recognizer.read_frame(frame)
    assert [r.text for r in got] == [r.text for r in want] and got[0].text == spec.text
    assert abs(got[0].confidence - want[0].confidence) < 1e-3
    crops = [cv2.resize(clean_crop(s, seed=3), (INPUT_W, INPUT_H)) for s in SPECS]
    assert np.abs(fast.model.logits(crops) - recognizer.model.logits(crops)).max() < 1e-3


def test_onnxruntime_runs_a_model_exported_for_one_image_at_a_time() -> None:
    model = PlateModel(backend="onnxruntime")
    crops = [cv2.resize(clean_crop(s, seed=4), (INPUT_W, INPUT_H)) for s in SPECS[:3]]
    batched = model.logits(crops)
    session, sizes = model._sess, []

    class Recording:  # the session, noting how many images each run is given
        def run(self, outputs: object, feed: dict[str, np.ndarray]) -> object:
            sizes.append(len(feed["image"]))
            return session.run(outputs, feed)

    model._sess, model._batch = Recording(), 1  # as a file exported before any batch size was allowed
    assert np.allclose(model.logits(crops), batched, atol=1e-5)
    assert sizes == [1, 1, 1]


def test_unknown_or_missing_runtime_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="use one of auto, opencv, onnxruntime"):
        PlateModel(backend="tensorrt")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as on a box without the fast extra
    with pytest.raises(ModelError, match=r"pip install 'estate-gateway\[fast\]'"):
        PlateModel(backend="onnxruntime")


def test_auto_takes_onnxruntime_where_installed_else_opencv(hide_onnxruntime: Callable[[], None]) -> None:
    assert PlateModel().backend == "onnxruntime"  # the tests install the fast extra's runtime
    hide_onnxruntime()
    assert PlateModel().backend == "opencv"
    assert Recognizer().read_crop(clean_crop(SPECS[0], seed=1)).text == SPECS[0].text


@pytest.mark.parametrize("backend", ["opencv", "onnxruntime"])
def test_a_missing_or_broken_model_file_is_a_clear_error(tmp_path: Path, backend: str) -> None:
    with pytest.raises(ModelError, match="not found; reinstall the package or run `plates train`"):
        PlateModel(tmp_path / "none.onnx", backend)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])  # a copy cut short
    with pytest.raises(ModelError, match="cannot load .*broken.onnx"):
        PlateModel(broken, backend)
