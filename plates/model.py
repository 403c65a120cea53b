"""The shipped recognizer network, run through OpenCV's DNN module (or onnxruntime if asked)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).parent / "models" / "plate_rec.onnx"
# OpenCV's DNN module is always there; onnxruntime (the `fast` extra) runs this network about
# three times as fast on one core (docs/plates.md). "auto" takes onnxruntime where it is installed.
BACKENDS = ("auto", "opencv", "onnxruntime")
INPUT_NAME = "image"  # the network's input, as `plates train` exports it


def to_blob(images: list[np.ndarray]) -> np.ndarray:
    """BGR recognizer inputs as the network takes them: N x 3 x H x W floats in [0, 1]."""
    return cv2.dnn.blobFromImages(images, scalefactor=1.0 / 255.0)


def resolve_backend(backend: str) -> str:
    """The runtime a backend setting means on this box."""
    if backend == "auto":
        return "onnxruntime" if importlib.util.find_spec("onnxruntime") is not None else "opencv"
    return backend


class ModelError(RuntimeError):
    """The model file is missing or unreadable; the message says what to do."""


class PlateModel:
    """Batches of INPUT_H x INPUT_W BGR crops -> N x T x C logits."""

    def __init__(self, path: Path | None = None, backend: str = "auto") -> None:
        self.path = Path(path) if path else DEFAULT_MODEL
        if not self.path.is_file():
            raise ModelError(f"model file {self.path} not found; reinstall the package or run "
                             "`plates train` to produce one")
        self.backend = backend = resolve_backend(backend)
        log.info("plate model %s on %s", self.path.name, backend)
        if backend == "onnxruntime":
            self._sess, self._batch = _ort_session(self.path)
        elif backend == "opencv":
            try:
                self._net = cv2.dnn.readNetFromONNX(np.frombuffer(_model_bytes(self.path), np.uint8))
            except cv2.error as exc:
                raise ModelError(f"OpenCV cannot load {self.path}: {exc}") from exc
        else:
            raise ModelError(f"unknown plate model backend {backend!r}; use one of {', '.join(BACKENDS)}")

    def logits(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, 0, 0), np.float32)
        blob = to_blob(images)
        if self.backend == "onnxruntime":
            step = self._batch or len(blob)  # a model exported for one image at a time
            out = np.concatenate([self._sess.run(None, {INPUT_NAME: blob[i : i + step]})[0]
                                  for i in range(0, len(blob), step)])
        else:
            self._net.setInput(blob)
            out = self._net.forward()
        # N x C x 1 x T -> N x T x C
        return np.ascontiguousarray(out[:, :, 0, :].transpose(0, 2, 1))


def _model_bytes(path: Path) -> bytes:
    """The model file, read by Python: given a name that is not UTF-8 (a folder copied from a
    Windows PC keeps its GBK bytes), OpenCV's DNN module crashes and onnxruntime refuses it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read ({exc.strerror}); give a readable "
                         "ONNX file") from exc


def _ort_session(path: Path) -> tuple[Any, int | None]:
    """An onnxruntime session on one core, and the batch size the file fixes (None: any)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError("the onnxruntime backend needs onnxruntime: run "
                         "`pip install 'estate-gateway[fast]'`, or use the opencv backend") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # one core, as the speed targets are set; cameras read in parallel
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    model = _model_bytes(path)
    try:
        sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a bad file
        raise ModelError(f"onnxruntime cannot load {path}: {exc}") from exc
    batch = sess.get_inputs()[0].shape[0]
    return sess, batch if isinstance(batch, int) else None
