"""Province supervision from rendered glyphs only.

The real training crops come from a few provinces (皖, 浙, 沪, 京 are 90 % of them). Taught the
province by them, the model learns that a real-looking photo starts with one of those four, and
reads 豫 or 苏 on a real plate as one of them. With `province_from="rendered"` a real crop's own
province is not taught: its CTC loss counts any province in first place as right (the province
classes' probabilities are summed into one), so the real crops still teach where the province
is and everything after it, and which province it is comes from rendered plates and from
transplanted glyphs (`transplant.py`), where every province is equally common.
"""

from __future__ import annotations

import torch

from plates.grammar import PROVINCES
from plates.train.data import encode

_PROVINCE_IDS = torch.tensor([encode(p)[0] for p in PROVINCES])
_ANY = PROVINCES[0]  # the class that stands for every province in a blind sample


def blind_texts(texts: list[str], blind: list[bool]) -> list[str]:
    """The targets: a blind sample's province replaced by the class that stands for any."""
    return [_ANY + t[1:] if b else t for t, b in zip(texts, blind, strict=True)]


def province_blind(logp: torch.Tensor, blind: list[bool]) -> torch.Tensor:
    """T x N x C log-probabilities where, for the blind samples, the stand-in class holds the
    log of the summed probability of every province (so CTC on it does not say which)."""
    if not any(blind):
        return logp
    summed = torch.logsumexp(logp[:, :, _PROVINCE_IDS], dim=2)
    mask = torch.tensor(blind).view(1, -1)
    out = logp.clone()
    stand_in = encode(_ANY)[0]
    out[:, :, stand_in] = torch.where(mask, summed, logp[:, :, stand_in])
    return out
