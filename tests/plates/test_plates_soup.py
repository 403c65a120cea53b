"""`plates soup`: averaging fine-tunes' weights. Torch-free: numpy arrays stand in for tensors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from plates.cli import main
from plates.train.soup import SoupError, average


def _state(scale: float, seen: int) -> dict[str, np.ndarray]:
    return {"conv.weight": np.full((2, 3), scale, np.float32),
            "bn.running_mean": np.array([scale, -scale], np.float32),
            "bn.num_batches_tracked": np.array(seen, np.int64)}


def test_weights_are_averaged_and_counters_kept() -> None:
    mean = average([_state(1.0, 10), _state(2.0, 20), _state(6.0, 30)], ["a", "b", "c"])
    assert np.allclose(mean["conv.weight"], 3.0)
    assert np.allclose(mean["bn.running_mean"], [3.0, -3.0])
    assert mean["bn.num_batches_tracked"] == 10
    assert mean["bn.num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize("other, says", [
    ({"conv.weight": np.zeros((2, 3), np.float32)}, "other layers"),
    ({**_state(1.0, 1), "conv.weight": np.zeros((4, 3), np.float32)}, "conv.weight is (4, 3)"),
])
def test_checkpoints_of_another_network_are_refused(other: dict[str, np.ndarray],
                                                      says: str) -> None:
    with pytest.raises(SoupError, match=re.escape(says)):
        average([_state(1.0, 1), other], ["ours.pt", "theirs.pt"])


def test_one_checkpoint_is_no_soup() -> None:
    with pytest.raises(SoupError, match="at least two"):
        average([_state(1.0, 1)], ["a.pt"])


def test_missing_checkpoint_says_where_they_come_from(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "soup.onnx"
    code = main(["soup", "--out", str(out), str(tmp_path / "a.pt"), str(tmp_path / "b.pt")])
    assert code == 2
    err = capsys.readouterr().err
    assert "a.pt not found" in err and "plates train" in err
    assert not out.exists()
