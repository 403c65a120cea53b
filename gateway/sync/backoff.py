"""When to try the broker again: doubling delays with jitter, and a long wait after a refusal."""

from __future__ import annotations

import random


def retry_delay(failures: int, low: float, high: float, rng: random.Random) -> float:
    """Seconds before attempt failures+1: low, 2*low, 4*low ... up to high, each 50-100 % of that.

    The jitter keeps a site's gateways from all reconnecting in the same second after a broker
    restart.
    """
    if failures <= 0:
        return 0.0
    base = min(high, low * 2 ** min(failures - 1, 30))
    return base * (0.5 + rng.random() / 2)
