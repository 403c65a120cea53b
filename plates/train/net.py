"""The recognizer network: a small all-convolutional CTC model (LPRNet/CRNN class).

No recurrent layers, so the ONNX export runs on every OpenCV DNN back-end; wide 1-D convolutions
along the plate give each output column the context of its neighbours instead.
"""

from __future__ import annotations

import torch
from torch import nn

from plates.grammar import ALPHABET

N_CLASSES = len(ALPHABET) + 1  # index 0 is the CTC blank


def _block(
    cin: int, cout: int, k: tuple[int, int] = (3, 3), pad: tuple[int, int] = (1, 1)
) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=pad, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class PlateNet(nn.Module):
    """3x32x96 BGR in [0, 1] -> logits N x classes x 1 x 24."""

    def __init__(self, n_classes: int = N_CLASSES) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(3, 32), nn.MaxPool2d(2),  # 16 x 48
            _block(32, 64), nn.MaxPool2d(2),  # 8 x 24
            _block(64, 96), _block(96, 96), nn.MaxPool2d((2, 1)),  # 4 x 24
            _block(96, 128), nn.MaxPool2d((2, 1)),  # 2 x 24
            _block(128, 192, (2, 1), (0, 0)),  # 1 x 24
            _block(192, 192, (1, 5), (0, 2)),
            _block(192, 192, (1, 5), (0, 2)),
            nn.Dropout(0.15),
        )
        self.classifier = nn.Conv2d(192, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
