from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plates.admissions import impostor_of
from plates.matcher import CONFUSABLE_GROUPS, PlateMatcher, Policy
from plates.synth.texts import random_spec

REGISTERED = ["皖A12345", "皖A8B0DQ", "皖A8B0D0", "京AD12345", "浙B12Z88", "浙B12288", "沪C55555"]


@pytest.mark.parametrize(
    ("reading", "policy", "registered", "how"),
    [
        ("皖A12345", Policy.EXACT, "皖A12345", "exact"),
        ("皖A12345", Policy.CONFUSABLE, "皖A12345", "exact"),
        ("皖A1234S", Policy.EXACT, None, "none"),  # default policy: exact only
        ("皖A1234S", Policy.CONFUSABLE, "皖A12345", "confusable"),  # 5/S
        ("皖AT2345", Policy.CONFUSABLE, "皖A12345", "confusable"),  # 1/T
        ("皖A12346", Policy.CONFUSABLE, None, "none"),  # 5/6 is not a confusable pair
        ("皖A1234SS", Policy.CONFUSABLE, None, "none"),  # a character more is not a swap
        ("皖A88ODQ", Policy.CONFUSABLE, None, "none"),  # two swaps away
        ("浙B12Z8B", Policy.CONFUSABLE, "浙B12Z88", "confusable"),  # 8/B; 浙B12288 is two away
        ("皖A8B0DD", Policy.CONFUSABLE, None, "ambiguous"),  # one swap from two registered plates
        ("皖A8B0DD", Policy.EXACT, None, "none"),
        ("津C55555", Policy.CONFUSABLE, "沪C55555", "confusable"),  # province glyphs
        ("京AD1234S", Policy.CONFUSABLE, "京AD12345", "confusable"),
    ],
)
def test_match_table(reading: str, policy: Policy, registered: str | None, how: str) -> None:
    m = PlateMatcher(REGISTERED).match(reading, policy)
    assert (m.registered, m.how) == (registered, how)
    assert m.admitted == (registered is not None)


def test_ambiguous_when_two_registered_plates_are_close() -> None:
    # 浙B1ZZ88 is one 2/Z swap from the first and one 8/B swap from the second.
    matcher = PlateMatcher(["浙B12Z88", "浙B1ZZ8B"])
    m = matcher.match("浙B1ZZ88", Policy.CONFUSABLE)
    assert m.how == "ambiguous" and not m.admitted


def test_large_register_builds_and_matches() -> None:
    rng = random.Random(3)
    plates = {random_spec(rng).text for _ in range(12_000)}
    matcher = PlateMatcher(plates)
    assert len(matcher) == len(plates)
    sample = sorted(plates)[:200]
    assert all(matcher.match(p).admitted for p in sample)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32))
def test_exact_policy_never_admits_an_unregistered_plate(seed: int) -> None:
    rng = random.Random(seed)
    registered = {random_spec(rng).text for _ in range(50)}
    base = rng.choice(sorted(registered))
    impostor = impostor_of(base, rng)
    if impostor is None or impostor in registered:
        return
    assert not PlateMatcher(registered).match(impostor, Policy.EXACT).admitted


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32))
def test_confusable_policy_admits_only_confusable_single_swaps(seed: int) -> None:
    rng = random.Random(seed)
    registered = sorted({random_spec(rng).text for _ in range(50)})
    base = rng.choice(registered)
    impostor = impostor_of(base, rng)
    if impostor is None or impostor in registered:
        return
    m = PlateMatcher(registered).match(impostor, Policy.CONFUSABLE)
    if m.admitted:
        assert m.registered is not None and len(m.registered) == len(impostor)
        diffs = [(a, b) for a, b in zip(m.registered, impostor, strict=True) if a != b]
        assert len(diffs) == 1
        a, b = diffs[0]
        assert any(a in g and b in g for g in CONFUSABLE_GROUPS)
