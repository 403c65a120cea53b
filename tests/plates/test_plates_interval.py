"""The Wilson interval that `plates eval` and `plates eval-admissions` print beside a share."""

import pytest

from plates.interval import wilson_pct


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (5, 10, 23.66, 76.34),     # the textbook case: symmetric about a half
    (0, 10, 0.0, 27.75),       # none seen still allows up to z^2 / (n + z^2)
    (10, 10, 72.25, 100.0),
    (386, 400, 94.21, 97.9),   # 96.5 % of 400 crops fits any rate from 94 to 98 %
    (0, 10_000, 0.0, 0.04),    # no false admission in 10,000 bounds the rate at 0.04 %
])
def test_wilson_interval_table(k: int, n: int, low: float, high: float) -> None:
    assert wilson_pct(k, n) == (low, high)


def test_a_share_always_lies_inside_its_interval() -> None:
    for n in (1, 7, 400):
        for k in range(n + 1):
            low, high = wilson_pct(k, n, places=6)
            assert low <= 100 * k / n <= high


@pytest.mark.parametrize(("k", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_impossible_counts_are_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_pct(k, n)
