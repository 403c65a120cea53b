"""How far a measured share can be trusted: the Wilson score interval.

A figure such as 96.5 % of 400 crops, or 0 false admissions in 10,000, is one sample. The
interval says which true rates it fits, so two models a crop or two apart on 400 are not taken
for different, and "none admitted" gets an upper bound.
"""

from __future__ import annotations

import math

Z_95 = 1.959964  # two-sided 95 %


def wilson_pct(k: int, n: int, places: int = 2, z: float = Z_95) -> tuple[float, float]:
    """The 95 % Wilson interval of k successes in n trials, in per cent, rounded to places."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return round(100 * max(0.0, centre - half), places), round(100 * min(1.0, centre + half), places)
