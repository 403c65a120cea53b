"""CTC decoding constrained by the plate grammar.

The network scores every character at each of T columns. Greedy decoding often already gives a
valid plate; when it does not, a Viterbi search over the CTC alignment of each format (a fixed
sequence of per-position character sets, grammar.slot_variants) finds the best plate that fits a
format.
Text that fits no format is never produced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from plates.grammar import ALPHABET, SLOTS, camera_formats_of, formats_of, over_letter_cap, slot_variants

_NEG = -1e9


def _merged(sequences: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Slot sequences, merging those that differ only in their last character (standard,
    coach, trailer, police, consulate...): fewer patterns, same plates."""
    merged: dict[tuple[str, ...], str] = {}
    for slots in sequences:
        key = slots[:-1]
        merged[key] = "".join(dict.fromkeys(merged.get(key, "") + slots[-1]))
    return [key + (last,) for key, last in merged.items()]


@dataclass(frozen=True, slots=True)
class _Patterns:
    """Slot sequences with each position's allowed classes listed compactly (at most 38 of the
    74): classes[f, j, k] is the k-th class allowed at position j of pattern f, and pad is 0 there,
    -inf where a position has fewer classes (or the pattern is shorter). prev_classes is classes
    shifted one position on (what the character before may have been)."""

    classes: np.ndarray  # F x L x K class ids
    pad: np.ndarray  # F x L x K additive mask
    prev_classes: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, sequences: list[tuple[str, ...]]) -> _Patterns:
        width = max(len(allowed) for pattern in sequences for allowed in pattern)
        classes = np.zeros((len(sequences), _MAXLEN, width), np.int64)
        pad = np.full(classes.shape, _NEG, np.float32)
        for f, pattern in enumerate(sequences):
            for j, allowed in enumerate(pattern):
                classes[f, j, : len(allowed)] = [ALPHABET.index(ch) + 1 for ch in allowed]
                pad[f, j, : len(allowed)] = 0.0
        prev = np.concatenate([np.full_like(classes[:, :1], -1), classes[:, :-1]], axis=1)
        return cls(classes, pad, prev, np.array([len(p) for p in sequences]))


_MAXLEN = max(len(p) for p in SLOTS.values())
_MINLEN = min(len(p) for p in SLOTS.values())
# Per-position sets alone (5 patterns) are searched first; their best plate breaks the cap on a
# serial's letters only now and then, and only then are the capped variants (19) searched.
_PLAIN = _Patterns.of(_merged(SLOTS.values()))
_CAPPED = _Patterns.of(_merged(v for name in SLOTS for v in slot_variants(name)))


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    confidence: float  # product of the characters' peak probabilities
    char_conf: tuple[float, ...]
    fmt: str


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """T x C logits -> log probabilities."""
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def greedy(logp: np.ndarray) -> tuple[str, tuple[float, ...]]:
    best = logp.argmax(axis=1)
    chars: list[str] = []
    confs: list[float] = []
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k != prev:
            chars.append(ALPHABET[k - 1])
            confs.append(float(np.exp(logp[t, k])))
        elif k != 0 and k == prev:
            confs[-1] = max(confs[-1], float(np.exp(logp[t, k])))
        prev = k
    return "".join(chars), tuple(confs)


def decode(logp: np.ndarray, floor: float = 0.0) -> Decoded | None:
    """Best plate for T x C log-probabilities, or None when nothing plausible is there.

    floor: the caller has no use for a reading less confident than this, which lets the
    grammar search be skipped where it cannot reach it.
    """
    text, confs = greedy(logp)
    plate = _decoded((text, confs))
    if plate is not None:
        return plate
    if over_letter_cap(text):
        # Only the cap on the serial's letters is broken. The best path of all fits the
        # per-position sets, so their search would find this same text: go to the capped one.
        return _capped(logp, (text, confs), floor)
    # The search costs a few ms; a region whose best reading is nowhere near a plate's length
    # (most detector candidates) is not worth it.
    if not _MINLEN - 1 <= len(text) <= _MAXLEN + 1:
        return None
    if floor > 0 and _ceiling(logp) < floor:
        return None
    return constrained(logp, floor)


def constrained(logp: np.ndarray, floor: float = 0.0) -> Decoded | None:
    """The best reading that fits a format, or None when no alignment fits one."""
    found = _search(logp, _PLAIN)
    if found is None or formats_of(found[0]):
        return _decoded(found)
    return _capped(logp, found, floor)


def _capped(logp: np.ndarray, over: tuple[str, tuple[float, ...]], floor: float) -> Decoded | None:
    """The best reading within the cap on a serial's letters, given the best one (over) that
    breaks it: the capped search trades letters for digits the network liked less, so a
    reading already under floor would only fall further, and that search is skipped."""
    if float(np.prod(over[1])) < floor:
        return None
    return _decoded(_search(logp, _CAPPED))


def _decoded(found: tuple[str, tuple[float, ...]] | None) -> Decoded | None:
    """The text with its characters' probabilities as a Decoded plate; None if it is no plate."""
    if found is None:
        return None
    text, confs = found
    fits = camera_formats_of(text)
    return Decoded(text, float(np.prod(confs)), confs, fits[0].name) if fits else None


def _ceiling(logp: np.ndarray) -> float:
    """An upper bound on the confidence of any reading: each of its (at least _MINLEN)
    characters peaks in a column of its own, at no more than that column's best character."""
    best = np.exp(logp[:, 1:].max(axis=1))
    return float(np.prod(np.sort(best)[-_MINLEN:]))


def _search(logp: np.ndarray, patterns: _Patterns) -> tuple[str, tuple[float, ...]] | None:
    """Viterbi over the CTC alignments of every pattern at once (vectorized over patterns):
    the best path's text and its characters' peak probabilities, None when no path fits."""
    n_t = logp.shape[0]
    n_f, n_l, n_k = patterns.classes.shape
    char = np.full((n_f, n_l, n_k), _NEG, np.float32)  # in character j, its k-th class
    blank = np.full((n_f, n_l + 1), _NEG, np.float32)  # blank before character j (j = 0..L)
    blank[:, 0] = 0.0
    # Back-pointers: for char states 0 stay / 1 from blank / 2 from previous char (its k kept);
    # for blank states 0 stay / 1 from the character before it (its k kept).
    c_src = np.zeros((n_t, n_f, n_l, n_k), np.int8)
    c_prev = np.zeros((n_t, n_f, n_l, n_k), np.int16)
    b_src = np.zeros((n_t, n_f, n_l + 1), np.int8)
    b_prev = np.zeros((n_t, n_f, n_l + 1), np.int16)
    ks = np.arange(n_k)
    first = np.full((n_f, 1, n_k), _NEG, np.float32)
    for t in range(n_t):
        lp = logp[t]
        # Best previous character other than this class (a repeat needs a blank between).
        prev_char = np.concatenate([first, char[:, :-1]], axis=1)
        top1_k = prev_char.argmax(axis=2)[..., None]
        is_top = patterns.classes == np.take_along_axis(patterns.prev_classes, top1_k, 2)
        top2_k = np.where(ks == top1_k, _NEG, prev_char).argmax(axis=2)[..., None]
        top1 = np.take_along_axis(prev_char, top1_k, 2)
        top2 = np.take_along_axis(prev_char, top2_k, 2)
        other = np.where(is_top, top2, top1)
        other_k = np.where(is_top, top2_k, top1_k)
        from_blank = blank[:, :-1, None]
        cands = np.stack([char, np.broadcast_to(from_blank, char.shape), other])
        src = cands.argmax(axis=0)
        new_char = (np.take_along_axis(cands, src[None], 0)[0] + lp[patterns.classes]
                    + patterns.pad)
        c_src[t], c_prev[t] = src, other_k
        best_c_k = char.argmax(axis=2)
        best_c = np.take_along_axis(char, best_c_k[..., None], 2)[..., 0]
        stay_b = blank[:, 1:]
        bsrc = (best_c > stay_b).astype(np.int8)
        new_blank = np.empty_like(blank)
        new_blank[:, 0] = blank[:, 0] + lp[0]
        new_blank[:, 1:] = np.maximum(stay_b, best_c) + lp[0]
        b_src[t, :, 1:], b_prev[t, :, 1:] = bsrc, best_c_k
        char, blank = np.maximum(new_char, _NEG), np.maximum(new_blank, _NEG)
    scores = np.full(n_f, _NEG, np.float32)
    ends: list[tuple[str, int, int]] = []
    for f in range(n_f):
        last = patterns.lengths[f] - 1
        k_best = int(char[f, last].argmax())
        if char[f, last, k_best] >= blank[f, last + 1]:
            scores[f] = char[f, last, k_best]
            ends.append(("c", last, k_best))
        else:
            scores[f] = blank[f, last + 1]
            ends.append(("b", last + 1, 0))
    f = int(scores.argmax())
    if scores[f] <= _NEG / 2:
        return None
    chars, confs = _backtrack(logp, patterns.classes[f], ends[f], c_src[:, f], c_prev[:, f],
                              b_src[:, f], b_prev[:, f])
    return "".join(ALPHABET[c - 1] for c in chars), tuple(confs)


def _backtrack(logp: np.ndarray, classes: np.ndarray, end: tuple[str, int, int],
               c_src: np.ndarray, c_prev: np.ndarray, b_src: np.ndarray, b_prev: np.ndarray
               ) -> tuple[list[int], list[float]]:
    """One pattern's best path, back from its end: its classes and their peak probabilities."""
    kind, j, k = end
    chars: list[int] = []
    confs: list[float] = []
    peak = 0.0
    for t in range(logp.shape[0] - 1, -1, -1):
        if kind == "c":
            c = int(classes[j, k])
            peak = max(peak, float(np.exp(logp[t, c])))
            src = c_src[t, j, k]
            if src == 0:
                continue
            chars.append(c)
            confs.append(peak)
            peak = 0.0
            if src == 1:
                kind = "b"
            else:
                k, j = int(c_prev[t, j, k]), j - 1
        else:
            if b_src[t, j] == 1:
                kind, k, j = "c", int(b_prev[t, j]), j - 1
    return chars[::-1], confs[::-1]
