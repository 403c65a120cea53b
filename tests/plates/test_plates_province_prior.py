"""Logit adjustment for the province prior (`plates train --balance-provinces`): torch-free."""

from __future__ import annotations

import numpy as np
import pytest

from plates.grammar import ALPHABET, PROVINCES
from plates.train.data import encode, province_offsets


def test_equal_draws_change_nothing() -> None:
    offsets = province_offsets({p: 40 for p in PROVINCES}, 1.0)
    assert offsets.shape == (len(ALPHABET) + 1,)
    assert np.allclose(offsets, 0.0)


def test_an_overdrawn_province_is_marked_down_in_the_model_and_others_up() -> None:
    counts = {p: 10 for p in PROVINCES} | {"皖": 10 * len(PROVINCES)}
    offsets = province_offsets(counts, 1.0)
    (wan,), (yu,) = encode("皖"), encode("豫")
    # The loss sees logits + offsets: 皖 gets its head start there, so the model itself need not
    # learn it, and reads an unclear glyph without leaning to 皖.
    assert offsets[wan] == pytest.approx(np.log(len(PROVINCES) * 311 / (311 + 30 * 11)), rel=1e-4)
    assert offsets[yu] < 0 < offsets[wan]
    assert province_offsets(counts, 0.5)[wan] == pytest.approx(offsets[wan] / 2)
    others = [i for i in range(len(offsets)) if i == 0 or ALPHABET[i - 1] not in PROVINCES]
    assert not offsets[others].any()  # blank, letters, digits, suffixes untouched


def test_a_province_never_drawn_is_not_ruled_out() -> None:
    offsets = province_offsets({"皖": 1000}, 1.0)
    assert np.isfinite(offsets).all()
