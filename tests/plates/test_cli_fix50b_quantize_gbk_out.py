"""`plates quantize` writing its model into a folder named in GBK bytes (a Windows PC's zip)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2

import plates
from plates.model import DEFAULT_MODEL

sys.path.insert(0, str(Path(plates.__file__).resolve().parent.parent / "tests" / "plates"))
from plate_images import SPECS, clean_crop  # noqa: E402

ROOT = Path(plates.__file__).resolve().parent.parent
_FOLDER = "车牌样本".encode("gbk")


def test_quantize_into_a_gbk_named_folder_says_what_it_wrote(tmp_path: Path) -> None:
    """`plates quantize m.onnx --out 车牌样本/q.onnx --real 车牌样本` (the crops' folder unzipped from a
    Windows PC, the model written beside them) writes the model, then ends in a UnicodeEncodeError
    traceback, exit 1, as it prints the name raw. It should say `wrote ...q.onnx` (the name with
    replacement characters, as read and synth print theirs) and exit 0."""
    folder = os.fsencode(tmp_path) + b"/" + _FOLDER
    os.mkdir(folder)
    ok, buf = cv2.imencode(".png", clean_crop(SPECS[0]))
    assert ok
    for i in range(3):
        with open(folder + b"/c%d.png" % i, "wb") as fh:
            fh.write(buf.tobytes())
    with open(folder + b"/labels.csv", "w", encoding="utf-8") as fh:
        fh.write("file,plate,kind\n" + "".join(f"c{i}.png,{SPECS[0].text},crop\n" for i in range(3)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "plates.cli",
            "quantize",
            os.fsencode(str(DEFAULT_MODEL)),
            b"--out",
            folder + b"/q.onnx",
            b"--real",
            folder,
            b"--crops",
            b"3",
        ],
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert os.path.exists(folder + b"/q.onnx")
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and "Traceback" not in err, f"exit {done.returncode}: {err[-400:]}"
    assert b"wrote " in done.stdout and b"q.onnx" in done.stdout, done.stdout
