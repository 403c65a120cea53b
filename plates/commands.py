"""The work behind each `plates` subcommand; cli.py only parses arguments."""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

from plates.fonts import FontsMissing, rendering_fonts
from plates.image_files import printable, read_image, write_image
from plates.labels import LabelsError
from plates.model import ModelError

log = logging.getLogger(__name__)


class UserError(Exception):
    """Bad input from the command line; printed without a traceback."""


def run(args: argparse.Namespace) -> int:
    try:
        return _DISPATCH[args.command](args)
    except (LabelsError, FontsMissing, ModelError) as exc:
        raise UserError(str(exc)) from exc


def _emit(summary: dict[str, Any], as_json: bool) -> None:
    """Human lines, then (with --json) one JSON object as the last line."""
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")


def _model(args: argparse.Namespace) -> Path | None:
    """The model to use: --model when given, else the shipped one."""
    return Path(args.model) if args.model else None


def _recognizer(args: argparse.Namespace) -> Any:
    from plates.recognizer import Recognizer

    return Recognizer(_model(args), backend=args.backend)


def _parse_roi(text: str | None) -> tuple[int, int, int, int] | None:
    if not text:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError as exc:
        raise UserError(f"--roi {text!r}: give four integers x,y,w,h") from exc
    if w <= 0 or h <= 0:
        # An empty region holds no plate: every frame would read as 'no plate', exit 0.
        raise UserError(
            f"--roi {text!r}: the width and height must be 1 or more; give x,y,w,h as the "
            "region's top-left corner, then its width and height in pixels (e.g. 400,300,800,400)"
        )
    return x, y, w, h


def _roi_misses(roi: tuple[int, int, int, int], image: np.ndarray) -> bool:
    x, y, w, h = roi
    height, width = image.shape[:2]
    return x >= width or y >= height or x + w <= 0 or y + h <= 0


def _load(name: str, roi: tuple[int, int, int, int] | None) -> tuple[np.ndarray | None, str]:
    """The image to read, or None and why not, saying what to give instead."""
    path = Path(name)
    if path.is_dir():
        return None, f"is a folder; give the image files in it (e.g. {path / '*.jpg'})"
    if not path.is_file():
        return None, "no such file; give JPEG or PNG files"
    image = read_image(path)
    if image is None:
        return None, "not an image OpenCV can read; give JPEG or PNG files"
    if roi is not None and _roi_misses(roi, image):
        height, width = image.shape[:2]
        return None, (
            f"--roi {','.join(map(str, roi))} lies outside the image ({width}x{height} px); "
            "give a region that overlaps it"
        )
    return image, ""


def _read(args: argparse.Namespace) -> int:
    rec = _recognizer(args)
    roi = _parse_roi(args.roi)
    status = 0
    for name in args.images:
        image, why = _load(name, None if args.crop else roi)
        shown = printable(name)
        if image is None:
            print(f"plates read: {shown}: {why}", file=sys.stderr)
            if args.json:  # one object per image, so that a script reading stdout misses none
                print(json.dumps({"image": shown, "error": why, "readings": []}, ensure_ascii=False))
            status = 2
            continue
        if args.crop:
            one = rec.read_crop(image)
            readings = [one] if one else []
        else:
            readings = rec.read_frame(image, roi)
            if not readings and roi is None:
                one = rec.read_crop(image)  # a crop given without --crop
                readings = [one] if one else []
        if args.json:
            print(
                json.dumps({"image": shown, "readings": [r.to_dict() for r in readings]}, ensure_ascii=False)
            )
        elif not readings:
            print(f"{shown}: no plate")
        else:
            for r in readings:
                print(f"{shown}: {r.text} {r.colour} {r.confidence:.3f} box={r.box}")
    return status


def _eval(args: argparse.Namespace) -> int:
    import cv2

    from plates.evaluate import CropView, evaluate

    if not 0.0 <= args.loose <= 2.0:
        raise UserError(
            f"--loose {args.loose}: give a margin from 0 to 2 (0.25 is a quarter "
            "of the crop's width at each side)"
        )
    if not 0.0 <= args.slant < 0.5:
        raise UserError(
            f"--slant {args.slant}: give a cut from 0 to below 0.5 (0.2 makes the "
            "far end 60 % as tall as the near one)"
        )
    if not 0.0 <= args.rotate <= 45.0:
        raise UserError(
            f"--rotate {args.rotate}: give degrees from 0 to 45 (cameras mounted a "
            "little askew turn plates by 2-10)"
        )
    if args.width and not 20 <= args.width <= 4000:
        raise UserError(
            f"--width {args.width}: give a plate width from 20 to 4000 pixels "
            "(cameras see plates 60-700 px wide)"
        )
    cv2.setNumThreads(args.threads)
    rec = _recognizer(args)
    view = CropView(args.width, args.loose, args.slant, args.rotate)
    result = evaluate(Path(args.folder), rec, view)
    if not result.by_kind:
        for path in result.unreadable:
            print(f"unreadable: {printable(path)}")
        raise UserError(
            f"{args.folder}: labels.csv names no image that could be read, so there "
            "is nothing to measure; check that its file names are in that folder"
        )
    summary = {"backend": rec.model.backend, **result.summary()}
    # The details go first, so that the summary stays the last line.
    worst = sorted(result.times, reverse=True)[: args.slowest]
    print("slowest: " + ", ".join(f"{n} {ms:.1f} ms" for ms, n in worst))
    for name, truth, read, conf in result.errors[: args.errors]:
        print(f"wrong: {name} truth {truth} read {read} conf {conf:.3f}")
    if len(result.errors) > args.errors:
        print(f"... {len(result.errors) - args.errors} more wrong")
    for path in result.unreadable:
        print(f"unreadable: {printable(path)}")
    for line in result.province_lines():
        print(line)
    _emit(summary, args.json)
    return 0


def _admissions(args: argparse.Namespace) -> int:
    from plates.admissions import run as run_admissions

    res = run_admissions(
        _recognizer(args),
        args.registered,
        args.impostors,
        min(2000, args.registered),
        args.seed,
        args.decide_at,
    )
    # The plates are rendered with every font installed; another font set draws another sample.
    _emit({**res.summary(), "render_fonts": ",".join(rendering_fonts())}, args.json)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from plates.bench import run as run_bench

    _emit(run_bench(args.frames, args.threads, _model(args), args.backend), args.json)
    return 0


def _synth(args: argparse.Namespace) -> int:
    from plates.synth.augment import camera_crop
    from plates.synth.render import render_plate
    from plates.synth.scene import render_scene
    from plates.synth.texts import random_spec

    out = _empty_folder(Path(args.out))
    rng = random.Random(args.seed)
    rows = ["file,plate,kind,colour"]
    for i in range(args.n):
        name = f"synth_{i:05d}.png"
        if args.scenes:
            image, _, spec, _ = render_scene(rng)
            kind = "scene"
        else:
            spec = random_spec(rng)
            image = render_plate(
                spec.text, spec.colour, spec.rows, spec.fmt, rng, px_per_mm=rng.uniform(0.4, 1.5)
            )
            if not args.clean:
                image = camera_crop(image, spec.rows, rng)
            kind = "crop"
        try:
            write_image(out / name, image)
        except OSError as exc:
            why = exc.strerror or exc
            raise UserError(f"{out / name}: {why}; give a folder you can write to") from exc
        rows.append(f"{name},{spec.text},{kind},{spec.colour}")
    try:
        (out / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{out / 'labels.csv'}: {exc.strerror}; give a folder you can write to") from exc
    print(f"wrote {args.n} images and labels.csv to {printable(out)}")
    return 0


def _empty_folder(out: Path) -> Path:
    """The folder synth writes into, made if need be; never one whose labels.csv (someone's
    hand-typed labels, an earlier run) or rendered plates it would replace."""
    if out.is_dir() and ((out / "labels.csv").exists() or any(out.glob("synth_*.png"))):
        raise UserError(
            f"{out} already holds labels.csv or rendered plates, which this would "
            "replace; give an empty or new folder"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "is a file" if out.exists() else f"cannot be made ({exc.strerror})"
        raise UserError(f"{out} {why}; give an empty or new folder") from exc
    return out


def _train(args: argparse.Namespace) -> int:
    try:
        from plates.train.loop import TrainConfig, train  # torch: training only
    except ImportError as exc:
        raise UserError(f"training needs the train extra ({exc}); run `pip install -e '.[train]'`") from exc
    if not args.real:
        log.warning("no --real folder given: training on rendered plates only")
    cfg = TrainConfig(
        out=Path(args.out),
        real=tuple(Path(r) for r in args.real),
        caches=tuple(Path(c) for c in args.cache or ["runs/synth_cache.npz"]),
        synth=args.synth,
        steps=args.steps,
        batch=args.batch,
        seed=args.seed,
        threads=args.threads,
        resume=not args.no_resume,
        minutes=args.minutes,
        init=Path(args.init) if args.init else None,
        lr=args.lr,
        real_share=args.real_share,
        transplant=args.transplant,
        unseen_weight=args.unseen_weight,
        balance_provinces=args.balance_provinces,
        real_loose=args.real_loose,
        real_angled=args.real_angled,
    )
    train(cfg)
    return 0


def _soup(args: argparse.Namespace) -> int:
    from plates.train.soup import SoupError, make_soup

    try:
        make_soup([Path(c) for c in args.checkpoints], Path(args.out))
    except SoupError as exc:
        raise UserError(str(exc)) from exc
    except ImportError as exc:  # torch: training only
        raise UserError(f"a soup needs the train extra ({exc}); run `pip install -e '.[train]'`") from exc
    print(f"wrote {printable(args.out)}: the mean of {len(args.checkpoints)} checkpoints")
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from plates.train.quantize import QuantizeError, calibration_inputs, quantize

    source, out = Path(args.source), Path(args.out)
    if not source.is_file():
        raise UserError(f"{source} not found; give the float model `plates train` or `plates soup` wrote")
    try:
        inputs = calibration_inputs(source, [Path(r) for r in args.real], args.crops, args.seed)
        quantize(source, out, inputs)
    except QuantizeError as exc:
        raise UserError(str(exc)) from exc
    print(f"wrote {printable(out)}: int8, calibrated on {len(inputs)} recognizer inputs")
    return 0


_DISPATCH = {
    "read": _read,
    "eval": _eval,
    "eval-admissions": _admissions,
    "bench": _bench,
    "train": _train,
    "soup": _soup,
    "quantize": _quantize,
    "synth": _synth,
}
