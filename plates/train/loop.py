"""`plates train`: seeded CTC training on rendered plates plus real crops, then ONNX export."""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from plates.grammar import ALPHABET, PROVINCES
from plates.model import INPUT_NAME
from plates.rectify import INPUT_H, INPUT_W
from plates.train.data import (
    build_cache,
    encode,
    jitter_real,
    load_cache,
    load_real,
    photometric_light,
    province_offsets,
)
from plates.train.net import PlateNet
from plates.train.transplant import locate_provinces, transplant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    out: Path
    real: tuple[Path, ...]
    caches: tuple[Path, ...]
    synth: int = 80_000
    steps: int = 10_000
    batch: int = 128
    real_share: float = 0.3
    lr: float = 2e-3
    seed: int = 7
    threads: int = 2
    resume: bool = True
    minutes: float | None = None  # time budget: the schedule ends at steps or minutes, first
    init: Path | None = None  # fine-tune: start from this checkpoint's weights
    transplant: float = 0.3  # share of real crops shown with another province's glyph
    unseen_weight: int = 1  # how many times as often provinces with no real crop are drawn
    balance_provinces: float = 0.0  # strength of the logit adjustment for the province prior
    real_loose: float = 0.0  # share of real crops framed with wide margins first
    real_angled: float = 0.0  # share of real crops seen from the side first


def _greedy(logits: torch.Tensor) -> list[str]:
    best = logits.argmax(dim=1).squeeze(1).cpu().numpy()  # N x T
    out = []
    for row in best:
        chars, prev = [], 0
        for k in row:
            if k != prev and k != 0:
                chars.append(ALPHABET[k - 1])
            prev = k
        out.append("".join(chars))
    return out


def _to_tensor(batch: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0)


def _accuracy(model: nn.Module, images: np.ndarray, texts: list[str]) -> float:
    model.eval()
    hits = 0
    with torch.no_grad():
        for i in range(0, len(images), 256):
            pred = _greedy(model(_to_tensor(images[i : i + 256])))
            hits += sum(p == t for p, t in zip(pred, texts[i : i + 256], strict=True))
    model.train()
    return 100.0 * hits / max(1, len(texts))


def export_onnx(model: nn.Module, path: Path) -> None:
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, INPUT_H, INPUT_W)
    # Any batch size: the recognizer reads all of a frame's candidates in one run.
    torch.onnx.export(model, (dummy,), str(path), input_names=[INPUT_NAME], output_names=["logits"],
                      dynamic_axes={INPUT_NAME: {0: "n"}, "logits": {0: "n"}}, opset_version=13,
                      dynamo=False)
    model.train()


def _load_caches(cfg: TrainConfig) -> tuple[np.ndarray, list[str]]:
    """Every cache, rendered first where missing (cache i with seed + i); the first cache's
    head is the rendered validation slice."""
    images, texts = [], []
    for i, path in enumerate(cfg.caches):
        if not path.is_file():
            log.info("rendering %d synthetic plates into %s", cfg.synth, path)
            build_cache(path, cfg.synth, cfg.seed + i, workers=cfg.threads)
        x, t = load_cache(path)
        images.append(x)
        texts += t
    return np.concatenate(images), texts


def _unseen_draws(weight: int, real_texts: list[str],
                  syn_texts: list[str]) -> tuple[str, list[float] | None]:
    """Provinces no real crop shows are taught by rendered glyphs alone; drawn `weight` times as
    often: the province pool for transplants and the cumulative weights of the rendered plates
    (None at weight 1: plain uniform draws)."""
    if weight <= 1:
        return PROVINCES, None
    unseen = set(PROVINCES) - {t[0] for t in real_texts}
    log.info("%d provinces have no real crop; drawn %d times as often", len(unseen), weight)
    pool = "".join(p * (weight if p in unseen else 1) for p in PROVINCES)
    cum_weights = np.cumsum([weight if t[0] in unseen else 1 for t in syn_texts]).tolist()
    return pool, cum_weights


def train(cfg: TrainConfig) -> None:
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    syn_x, syn_t = _load_caches(cfg)
    real_x, real_t = load_real(list(cfg.real))
    log.info("synthetic %d, real %d", len(syn_x), len(real_x))
    # Hold out some of each for validation: a slice of the cache, a seeded sample of real crops.
    n_val = min(2000, len(syn_x) // 10)
    val_sx, val_st, syn_x, syn_t = syn_x[:n_val], syn_t[:n_val], syn_x[n_val:], syn_t[n_val:]
    order = list(range(len(real_x)))
    rng.shuffle(order)
    n_rval = len(order) // 12
    from plates.rectify import to_input

    val_rx = np.stack([to_input(real_x[i]) for i in order[:n_rval]]) if n_rval else syn_x[:0]
    val_rt = [real_t[i] for i in order[:n_rval]]
    real_x = [real_x[i] for i in order[n_rval:]]
    real_t = [real_t[i] for i in order[n_rval:]]
    glyph_boxes = locate_provinces(real_x, real_t) if cfg.transplant and real_x else []
    pool, cum_weights = _unseen_draws(cfg.unseen_weight, real_t, syn_t)

    model = PlateNet()
    if cfg.init:
        model.load_state_dict(torch.load(cfg.init, weights_only=False)["model"])
        log.info("starting from the weights of %s", cfg.init)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    ckpt = cfg.out.with_suffix(".pt")
    step, best, spent_before = 0, -1.0, 0.0
    if cfg.resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, best = state["step"], state["best"]
        spent_before = state.get("minutes", 0.0)
        rng.setstate(state["rng"])
        log.info("resumed at step %d (best real val %.2f%%)", step, best)
    model.train()
    n_real = int(cfg.batch * cfg.real_share) if real_x else 0
    t0, losses = time.monotonic(), []
    drawn: dict[str, int] = {}  # provinces of the plates trained on so far
    def progress() -> float:
        # On a shared CPU the speed varies: a time budget ends the schedule (and so anneals the
        # learning rate) on time; without one the run is a fixed number of steps.
        done = step / cfg.steps
        if cfg.minutes:
            done = max(done, (spent_before + (time.monotonic() - t0) / 60) / cfg.minutes)
        return min(1.0, done)

    def lr_at(p: float) -> float:
        warm = 0.05
        if p < warm:
            return cfg.lr * (0.1 + 0.9 * p / warm)
        return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (p - warm) / (1 - warm))))

    while progress() < 1.0:
        for group in opt.param_groups:
            group["lr"] = lr_at(progress())
        if cum_weights is None:  # (the draws of the runs before the weight existed)
            idx = [rng.randrange(len(syn_x)) for _ in range(cfg.batch - n_real)]
        else:
            idx = rng.choices(range(len(syn_x)), cum_weights=cum_weights, k=cfg.batch - n_real)
        imgs = [photometric_light(syn_x[i], rng) if rng.random() < 0.5 else syn_x[i] for i in idx]
        texts = [syn_t[i] for i in idx]
        for _ in range(n_real):
            j = rng.randrange(len(real_x))
            img, text = real_x[j], real_t[j]
            box = glyph_boxes[j] if glyph_boxes else None
            if box is not None and rng.random() < cfg.transplant:
                img, text = transplant(img, text, box, rng, pool)
            loose = cfg.real_loose > 0 and rng.random() < cfg.real_loose
            angled = cfg.real_angled > 0 and rng.random() < cfg.real_angled
            imgs.append(jitter_real(img, rng, loose, angled))
            texts.append(text)
        x = _to_tensor(np.stack(imgs))
        targets = torch.tensor([k for t in texts for k in encode(t)], dtype=torch.long)
        lengths = torch.tensor([len(t) for t in texts], dtype=torch.long)
        logits = model(x).squeeze(2).permute(2, 0, 1)  # T x N x C
        if cfg.balance_provinces:
            for t in texts:
                drawn[t[0]] = drawn.get(t[0], 0) + 1
            logits = logits + torch.from_numpy(province_offsets(drawn, cfg.balance_provinces))
        logp = logits.log_softmax(2)
        in_len = torch.full((len(texts),), logp.shape[0], dtype=torch.long)
        loss = ctc(logp, targets, in_len, lengths)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        if step % 100 == 0:
            log.info("step %d loss %.4f lr %.5f %.1f min", step, float(np.mean(losses)),
                     opt.param_groups[0]["lr"], (time.monotonic() - t0) / 60)
            losses = []
        if step % 500 == 0 or progress() >= 1.0:
            acc_s = _accuracy(model, val_sx, val_st)
            acc_r = _accuracy(model, val_rx, val_rt) if len(val_rt) else acc_s
            log.info("step %d val synthetic %.2f%% real %.2f%%", step, acc_s, acc_r)
            score = acc_r + acc_s
            if score > best:
                best = score
                export_onnx(model, cfg.out)
                log.info("exported %s (score %.2f)", cfg.out, score)
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "best": best, "rng": rng.getstate(),
                        "minutes": spent_before + (time.monotonic() - t0) / 60}, ckpt)
    log.info("done: %d steps in %.1f min", step, (time.monotonic() - t0) / 60)
