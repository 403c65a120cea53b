"""The shipped recognizer network, run through OpenCV's DNN module (or onnxruntime if asked)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).parent / "models" / "plate_rec.onnx"


class ModelError(RuntimeError):
    """The model file is missing or unreadable; the message says what to do."""


class PlateModel:
    """Batches of INPUT_H x INPUT_W BGR crops -> N x T x C logits."""

    def __init__(self, path: Path | None = None, backend: str = "opencv") -> None:
        self.path = Path(path) if path else DEFAULT_MODEL
        if not self.path.is_file():
            raise ModelError(f"model file {self.path} not found; reinstall the package or run "
                             "`plates train` to produce one")
        self.backend = backend
        if backend == "onnxruntime":
            try:
                import onnxruntime as ort  # optional, faster on some boards
            except ImportError as exc:
                raise ModelError("backend onnxruntime needs `pip install onnxruntime`") from exc
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            self._sess = ort.InferenceSession(str(self.path), opts,
                                              providers=["CPUExecutionProvider"])
        elif backend == "opencv":
            try:
                self._net = cv2.dnn.readNetFromONNX(str(self.path))
            except cv2.error as exc:
                raise ModelError(f"OpenCV cannot load {self.path}: {exc}") from exc
        else:
            raise ModelError(f"unknown backend {backend!r}; use opencv or onnxruntime")

    def logits(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, 0, 0), np.float32)
        blob = cv2.dnn.blobFromImages(images, scalefactor=1.0 / 255.0)
        if self.backend == "onnxruntime":
            out = self._sess.run(None, {"image": blob})[0]
        else:
            self._net.setInput(blob)
            out = self._net.forward()
        # N x C x 1 x T -> N x T x C
        return np.ascontiguousarray(out[:, :, 0, :].transpose(0, 2, 1))
