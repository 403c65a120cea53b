from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from plates.decode import constrained, decode, log_softmax
from plates.grammar import ALPHABET, SLOTS, is_plate
from plates.synth.texts import text_for

T = 24


def peaked(text: str, strength: float = 10.0) -> np.ndarray:
    """Logits where each character peaks at one column, blanks elsewhere."""
    lg = np.zeros((T, len(ALPHABET) + 1), np.float32)
    lg[:, 0] = strength
    for i, ch in enumerate(text):
        t = 1 + i * 2
        lg[t, 0] = 0
        lg[t, ALPHABET.index(ch) + 1] = strength
    return lg


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SLOTS)), st.integers(0, 2**32))
def test_clear_plates_decode_exactly(name: str, seed: int) -> None:
    text = text_for(name, random.Random(seed))
    d = decode(log_softmax(peaked(text)))
    assert d is not None and d.text == text
    assert 0.9 < d.confidence <= 1.0


def test_repeated_characters_survive() -> None:
    d = decode(log_softmax(peaked("皖A11111")))
    assert d is not None and d.text == "皖A11111"


def test_out_of_grammar_reading_is_corrected() -> None:
    lg = peaked("皖A12345")
    t = 1 + 6 * 2  # the last character: make an impossible 使 the strongest class there
    lg[t, ALPHABET.index("使") + 1] = 11.0
    lg[t, ALPHABET.index("5") + 1] = 9.0
    d = decode(log_softmax(lg))
    assert d is not None and d.text == "皖A12345"
    assert d.confidence < 0.9  # the forced character was not the network's first choice


def test_letter_where_province_belongs_is_never_offered() -> None:
    lg = peaked("AA12345")  # no province: greedy text fits no format
    d = decode(log_softmax(lg))
    assert d is None or (is_plate(d.text) and d.confidence < 0.05)


def test_all_blank_gives_no_confident_plate() -> None:
    lg = np.zeros((T, len(ALPHABET) + 1), np.float32)
    lg[:, 0] = 8.0
    d = constrained(log_softmax(lg))
    assert d is None or d.confidence < 1e-6


def _with_runner_up(text: str, index: int, runner_up: str, lead: float) -> np.ndarray:
    """Peaked logits where character `index` has a close second choice."""
    lg = peaked(text)
    t = 1 + index * 2
    lg[t, ALPHABET.index(runner_up) + 1] = 10.0 - lead
    return lg


def test_a_third_serial_letter_gives_way_to_the_best_digit() -> None:
    # The network's best, 皖AMZ21D, has three letters in its serial: no plate has. The last
    # character's runner-up 0 is much closer than Z's or M's best digit.
    lg = _with_runner_up("皖AMZ21D", 6, "0", lead=0.5)
    lg[1 + 2 * 2, ALPHABET.index("3") + 1] = 6.0  # M's best digit, far behind
    d = decode(log_softmax(lg))
    assert d is not None and d.text == "皖AMZ210"
    assert d.confidence < 0.5  # the network liked D better: the reading says so


def test_the_capped_search_is_skipped_under_the_callers_floor() -> None:
    lg = _with_runner_up("皖AMZ21D", 6, "0", lead=0.5)
    assert decode(log_softmax(lg), floor=0.9) is None
    assert constrained(log_softmax(lg), floor=0.9) is None
    assert constrained(log_softmax(lg)) is not None
