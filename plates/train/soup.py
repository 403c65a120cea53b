"""`plates soup`: one model from the average of several fine-tunes' weights (a model soup).

Fine-tunes that all started from one checkpoint stay in one basin of the loss, so the average of
their weights is a working model too, often a better one than any of them (Wortsman et al.
2022, "Model soups"). It costs no training and runs exactly as fast as each of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class SoupError(ValueError):
    """Checkpoints that cannot be averaged; the message says which and why."""


def _is_float(value: Any) -> bool:
    dtype = value.dtype
    return bool(getattr(dtype, "is_floating_point", False) or getattr(dtype, "kind", "") == "f")


def average(states: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """The element-wise mean of the weights (torch tensors or numpy arrays); counters such as
    BatchNorm's batches seen are taken from the first. names label the states in errors."""
    if len(states) < 2:
        raise SoupError("a soup needs at least two checkpoints")
    first = states[0]
    for state, name in zip(states[1:], names[1:], strict=True):
        if state.keys() != first.keys():
            raise SoupError(f"{name} has other layers than {names[0]}: average only checkpoints "
                            "of the same network")
        for key, value in state.items():
            if tuple(value.shape) != tuple(first[key].shape):
                raise SoupError(f"{name}: {key} is {tuple(value.shape)}, {names[0]} has "
                                f"{tuple(first[key].shape)}; average only checkpoints of the "
                                "same network")
    return {key: (sum(s[key] for s in states) / len(states) if _is_float(value) else value)
            for key, value in first.items()}


def make_soup(checkpoints: Sequence[Path], out: Path) -> None:
    """Average the checkpoints (`.pt` files `plates train` writes) and export out (ONNX), with
    the averaged weights beside it as out.pt."""
    for path in checkpoints:
        if not path.is_file():
            raise SoupError(f"checkpoint {path} not found; `plates train` writes one beside "
                            "its --out model, with the suffix .pt")
    import torch

    from plates.train.loop import export_onnx
    from plates.train.net import PlateNet

    names = [str(path) for path in checkpoints]
    mean = average([torch.load(path, weights_only=False)["model"] for path in checkpoints], names)
    model = PlateNet()
    model.load_state_dict(mean)
    export_onnx(model, out)
    torch.save({"model": mean, "members": names}, out.with_suffix(".pt"))
