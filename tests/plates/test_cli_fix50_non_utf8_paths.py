"""Folders and photos whose names are not UTF-8: what `unzip` makes of a zip packed on a Chinese
Windows PC (the names stay GBK bytes, which Python hands on surrogate-escaped), e.g. a guard's
车牌样本.zip of phone photos. OpenCV's imread and imwrite crashed the process on such a name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from plate_images import SPECS, clean_crop

import plates
from plates.model import DEFAULT_MODEL

ROOT = Path(plates.__file__).resolve().parent.parent
_FOLDER = "车牌样本".encode("gbk")
_PHOTO = "粤B照片.png".encode("gbk")


def _plates(*argv: bytes, backend: bytes = b"opencv") -> subprocess.CompletedProcess[bytes]:
    """`plates` in a process of its own: a crash in OpenCV kills it, not the test run. Its stdout
    is strict UTF-8, as on a box whose locale is zh_CN.UTF-8 (under C.UTF-8 Python would pass a
    name's undecodable bytes through)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"}
    return subprocess.run(
        [sys.executable, "-m", "plates.cli", "--backend", backend, *argv],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def _gbk_folder(tmp_path: Path) -> bytes:
    """A labelled folder with a GBK name, holding a photo with a GBK name and one with an ASCII one."""
    folder = os.fsencode(tmp_path) + b"/" + _FOLDER
    os.mkdir(folder)
    ok, buf = cv2.imencode(".png", clean_crop(SPECS[0]))
    assert ok
    for name in (_PHOTO, b"c0.png"):
        with open(folder + b"/" + name, "wb") as fh:
            fh.write(buf.tobytes())
    with open(folder + b"/labels.csv", "w", encoding="utf-8") as fh:
        fh.write(f"file,plate,kind\nc0.png,{SPECS[0].text},crop\n")
    return folder


def test_read_a_photo_whose_name_is_gbk_bytes(tmp_path: Path) -> None:
    """`plates read 车牌样本/*.png` died with a segmentation fault (exit -11, nothing printed, the
    other images unread); it reads both photos and prints their names (in JSON and as text)."""
    folder = _gbk_folder(tmp_path)
    photos = (folder + b"/" + _PHOTO, folder + b"/c0.png")
    done = _plates(b"read", *photos, b"--json")
    assert done.returncode == 0, f"plates read: exit {done.returncode}, stderr {done.stderr[-300:]!r}"
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [line["readings"][0]["text"] for line in lines] == [SPECS[0].text] * 2
    assert lines[0]["image"].endswith(".png") and "\ufffd" in lines[0]["image"]
    as_text = _plates(b"read", *photos)
    assert as_text.returncode == 0, f"exit {as_text.returncode}, stderr {as_text.stderr[-300:]!r}"
    assert as_text.stdout.decode().count(f": {SPECS[0].text} ") == 2


def test_read_says_which_gbk_named_file_it_cannot_read(tmp_path: Path) -> None:
    """A GBK-named file that is no image is named on stderr and in the JSON line, exit 2."""
    folder = _gbk_folder(tmp_path)
    broken = folder + b"/" + "坏的.png".encode("gbk")
    with open(broken, "wb") as fh:
        fh.write(b"not an image")
    done = _plates(b"read", broken, b"--json")
    assert done.returncode == 2, f"exit {done.returncode}, stderr {done.stderr[-300:]!r}"
    assert "not an image OpenCV can read" in done.stderr.decode()
    assert json.loads(done.stdout.decode())["readings"] == []


def test_eval_a_folder_whose_name_is_gbk_bytes(tmp_path: Path) -> None:
    """`plates eval 车牌样本` died with a segmentation fault (no figure, no message); it measures
    the crop in it."""
    folder = _gbk_folder(tmp_path)
    done = _plates(b"eval", folder, b"--json")
    assert done.returncode == 0, f"plates eval: exit {done.returncode}, stderr {done.stderr[-300:]!r}"
    summary = json.loads(done.stdout.decode().splitlines()[-1])
    assert summary["crop_images"] == 1 and summary["crop_full_plate_accuracy_pct"] == 100.0


def test_synth_into_a_folder_whose_name_is_gbk_bytes(tmp_path: Path) -> None:
    """`plates synth 合成` in a folder with a GBK name died with a segmentation fault after making
    the folder; it writes the rendered plates and labels.csv there."""
    out = os.fsencode(tmp_path) + b"/" + "合成".encode("gbk")
    done = _plates(b"synth", out, b"-n", b"1", b"--clean")
    assert done.returncode == 0, f"plates synth: exit {done.returncode}, stderr {done.stderr[-300:]!r}"
    assert os.path.isfile(out + b"/labels.csv") and os.path.isfile(out + b"/synth_00000.png")
    written = cv2.imdecode(np.fromfile(os.fsdecode(out + b"/synth_00000.png"), np.uint8), cv2.IMREAD_COLOR)
    assert written is not None and written.shape[2] == 3


def _python(code: str, folder: bytes) -> subprocess.CompletedProcess[bytes]:
    """code run with FOLDER, the folder's name as Python hands it on, in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FOLDER": os.fsdecode(folder)}
    prelude = "import os\nfrom pathlib import Path\nFOLDER = Path(os.environ['FOLDER'])\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_train_reads_real_crops_from_a_folder_whose_name_is_gbk_bytes(tmp_path: Path) -> None:
    """`plates train --real 车牌样本` loads the real crops with the same reader: it crashed too."""
    folder = _gbk_folder(tmp_path)
    done = _python(
        "from plates.train.data import load_real\nimages, texts = load_real([FOLDER])\n"
        f"assert len(images) == 1 and texts == [{SPECS[0].text!r}], texts",
        folder,
    )
    assert done.returncode == 0, f"exit {done.returncode}, stderr {done.stderr[-300:]!r}"


def test_quantize_calibrates_on_a_folder_whose_name_is_gbk_bytes(tmp_path: Path) -> None:
    """`plates quantize --real 车牌样本` reads its calibration crops with the same reader: it
    crashed too."""
    folder = _gbk_folder(tmp_path)
    done = _python(
        "from plates.model import DEFAULT_MODEL\nfrom plates.train.quantize import calibration_inputs\n"
        "assert len(calibration_inputs(DEFAULT_MODEL, [FOLDER], 1, 7)) > 1",
        folder,
    )
    assert done.returncode == 0, f"exit {done.returncode}, stderr {done.stderr[-300:]!r}"


@pytest.mark.parametrize("backend", [b"opencv", b"onnxruntime"])
def test_read_with_a_model_in_a_folder_whose_name_is_gbk_bytes(tmp_path: Path, backend: bytes) -> None:
    """`plates --model 车牌样本/m.onnx read` (comparing a model copied from a Windows PC): OpenCV's
    DNN module crashed on the name, and onnxruntime refused it with a message about its own
    argument types; both load the model and read the plate."""
    folder = _gbk_folder(tmp_path)
    model = folder + b"/m.onnx"
    with open(model, "wb") as fh:
        fh.write(DEFAULT_MODEL.read_bytes())
    done = _plates(b"--model", model, b"read", folder + b"/c0.png", b"--json", backend=backend)
    assert done.returncode == 0, f"plates read: exit {done.returncode}, stderr {done.stderr[-300:]!r}"
    assert json.loads(done.stdout.decode())["readings"][0]["text"] == SPECS[0].text
