"""`plates quantize`: the trained model with 8-bit integer weights and activations.

Each convolution runs on int8 (QDQ format, weights per output channel), which onnxruntime and
OpenCV's DNN module both run about twice as fast as float on one core, and which reads as the
float model does. The last layer (the classifier giving each column its character scores) stays
float: those scores set the confidence the lane decides on, and it costs next to nothing. The
activations' ranges are calibrated on what the recognizer really sees: the
inputs it makes while reading real crops (tight, framed loosely and at an angle, so the search's
looks are included), rendered camera crops and rendered frames.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

# What the activations are calibrated on: for each real crop, its readings as given, framed
# loosely at two margins, and at an angle; and rendered crops and frames beside them.
LOOSE_MARGINS = (0.1, 0.25)
SLANT = 0.2
RENDERED_SCENES_PER_100_CROPS = 5


class QuantizeError(ValueError):
    """Input the quantizer cannot use; the message says what to give instead."""


def calibration_inputs(model: Path, real: Sequence[Path], crops: int, seed: int) -> list[np.ndarray]:
    """The recognizer inputs made while model reads `crops` real crops (from the labels.csv
    folders in real) in each framing, as many rendered camera crops, and a few rendered frames."""
    from plates.evaluate import framed_loosely
    from plates.image_files import read_image
    from plates.labels import read_labels
    from plates.model import PlateModel
    from plates.recognizer import Recognizer
    from plates.synth.augment import rendered_camera_crop
    from plates.synth.scene import render_scene
    from plates.synth.texts import random_spec

    paths = [item.path for folder in real for item in read_labels(folder) if item.kind == "crop"]
    if not paths:
        raise QuantizeError("no crops to calibrate on: give --real with a folder of plate "
                            "crops and their labels.csv (as `plates train` takes)")
    seen: list[np.ndarray] = []

    class Recording(PlateModel):
        """The model, keeping every input the recognizer gives it."""

        def logits(self, images: list[np.ndarray]) -> np.ndarray:
            seen.extend(images)
            return super().logits(images)

    rng = random.Random(seed)
    rec = Recognizer(model)
    rec.model = Recording(model)
    for i, path in enumerate(rng.sample(paths, min(crops, len(paths)))):
        crop = read_image(path)  # cv2.imread crashes on a GBK folder name
        if crop is None:
            raise QuantizeError(f"{path} is not an image OpenCV can read; fix or remove it")
        rec.read_crop(crop)
        for margin in LOOSE_MARGINS:
            rec.read_crop(framed_loosely(crop, margin, seed + i))
        rec.read_crop(framed_loosely(crop, LOOSE_MARGINS[0], seed + i, SLANT))
    for _ in range(crops):
        rec.read_crop(rendered_camera_crop(random_spec(rng), rng))
    for _ in range(max(1, crops * RENDERED_SCENES_PER_100_CROPS // 100)):
        rec.read_frame(render_scene(rng, 1280, 720)[0])
    return seen


def quantize(source: Path, out: Path, inputs: Sequence[np.ndarray]) -> None:
    """Write out: source with int8 convolutions, activation ranges calibrated on inputs."""
    from plates.model import INPUT_NAME, to_blob

    try:
        import onnx
        from onnxruntime.quantization import (
            CalibrationDataReader,
            QuantFormat,
            QuantType,
            quantize_static,
        )
    except ImportError as exc:
        raise QuantizeError(f"quantizing needs onnxruntime and onnx ({exc}); run "
                            "`pip install -e '.[train]'`") from exc

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches: Iterator[np.ndarray] = (
                to_blob(list(inputs[i : i + 64])) for i in range(0, len(inputs), 64))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    graph = onnx.load(str(source)).graph
    outputs = {o.name for o in graph.output}
    classifier = [node.name for node in graph.node if outputs & set(node.output)]
    out.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_hint)
    try:
        quantize_static(str(source), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8, nodes_to_exclude=classifier)
    finally:
        root.removeFilter(_no_preprocessing_hint)


def _no_preprocessing_hint(record: logging.LogRecord) -> bool:
    """Drops quantize_static's advice to pre-process the model first (shape inference and graph
    optimization): the exported network is all convolutions with fixed shapes."""
    return "pre-process" not in record.getMessage()
