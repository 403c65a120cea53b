"""`plates` command line: read, eval, eval-admissions, bench, train, soup, synth."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Sequence

from plates import commands
from plates.closed_pipe import run_to_stdout
from plates.image_files import printable
from plates.model import BACKENDS

log = logging.getLogger(__name__)

_THREADS_HELP = (
    "OpenCV threads for the timings (1 = one core, as the targets are set; "
    "onnxruntime always runs the model on one)"
)


def _at_least(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `least`."""

    def whole(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"{n}: give {least} or more")
        return n

    return whole


_count = _at_least(1)  # things to make or time
_listed = _at_least(0)  # lines to list

# A --roi value that starts with a minus sign: a region reaching past the left or top edge.
_NEGATIVE_NUMBERS = re.compile(r"-\d[\d.]*(\s*,\s*-?\d[\d.]*)*")


def _roi_joined(argv: Sequence[str]) -> list[str]:
    """argv with `--roi -20,0,700,720` written `--roi=-20,0,700,720`: argparse takes a value that
    starts with '-' and is not one number for an option, and refuses --roi as given none."""
    out: list[str] = []
    for arg in argv:
        # After a bare `--` every argument is an image, one named --roi too.
        if out[-1:] == ["--roi"] and "--" not in out and _NEGATIVE_NUMBERS.fullmatch(arg):
            out[-1] = f"--roi={arg}"
        else:
            out.append(arg)
    return out


def _confidence(text: str) -> float:
    """A reading's confidence: a number from 0 to 1 (a percentage typed for it is refused, as no
    frame reaches 96 and the measure would come out as 0 admitted)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(
            f"{text}: give a confidence from 0 to 1 (the lane's is 0.985; 96 % is 0.96)"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="plates", description="Chinese licence-plate recognition")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    p.add_argument("--model", help="ONNX model to use instead of the shipped one (comparing runs)")
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="what runs the model: opencv (always there), onnxruntime (the fast extra, "
        "about three times as fast), auto (onnxruntime where installed)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("read", help="read plates in images (full frames or crops)")
    r.add_argument("images", nargs="+", help="image files")
    r.add_argument("--crop", action="store_true", help="treat each image as one plate crop")
    r.add_argument(
        "--roi",
        help="region of interest x,y,w,h in frame pixels (w, h 1 or more; on the image; "
        "x or y below 0 reaches past the left or top edge: --roi -20,0,700,720)",
    )
    r.add_argument("--json", action="store_true", help="one JSON object per image")

    e = sub.add_parser("eval", help="accuracy on a folder with labels.csv (file,plate,kind)")
    e.add_argument("folder")
    e.add_argument("--slowest", type=_listed, default=5, help="how many slowest images to list")
    e.add_argument("--errors", type=_listed, default=20, help="how many misreads to list")
    e.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    e.add_argument("--threads", type=_count, default=1, help=_THREADS_HELP)
    e.add_argument(
        "--loose",
        type=float,
        default=0.0,
        metavar="MARGIN",
        help="frame each crop loosely first, on car paint with MARGIN of its width "
        "at the sides and twice MARGIN of its height above and below (0.1-0.25 "
        "as cameras that detect plates themselves crop them)",
    )
    e.add_argument(
        "--slant",
        type=float,
        default=0.0,
        metavar="CUT",
        help="show each crop at an angle first: one end CUT of its height shorter "
        "at the top and at the bottom (0.2: the far end 60 %% as tall)",
    )
    e.add_argument(
        "--rotate",
        type=float,
        default=0.0,
        metavar="DEG",
        help="turn each crop by DEG degrees last (one way or the other, file by "
        "file), on a canvas grown to hold it all",
    )
    e.add_argument(
        "--width",
        type=int,
        default=0,
        metavar="PX",
        help="scale each crop to PX pixels wide first, its aspect kept (cameras see plates 60-700 px wide)",
    )

    a = sub.add_parser(
        "eval-admissions", help="false admissions: unregistered look-alike plates read and matched"
    )
    a.add_argument("--registered", type=_count, default=10_000)
    a.add_argument("--impostors", type=_count, default=10_000)
    a.add_argument("--seed", type=int, default=11)
    a.add_argument(
        "--decide-at",
        type=_confidence,
        metavar="CONF",
        help="the lane's single-frame threshold to measure, 0 to 1 (default: the lane's own)",
    )
    a.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="time per stage and memory")
    b.add_argument("--frames", type=_count, default=30)
    b.add_argument("--threads", type=_count, default=1, help=_THREADS_HELP)
    b.add_argument("--json", action="store_true")

    t = sub.add_parser("train", help="train the recognizer (needs the train extra: torch, onnx)")
    t.add_argument(
        "--real",
        action="append",
        default=[],
        help="folder of real crops with labels.csv (repeatable); never the eval set",
    )
    t.add_argument("--out", default="plates/models/plate_rec.onnx")
    t.add_argument(
        "--cache",
        action="append",
        default=[],
        help="rendered-plate cache (repeatable; rendered on first use with seed + its "
        "position; default runs/synth_cache.npz)",
    )
    t.add_argument("--synth", type=int, default=80_000, help="rendered plates in each cache")
    t.add_argument("--init", help="start from this checkpoint's weights (fine-tuning), fresh schedule")
    t.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    t.add_argument("--real-share", type=float, default=0.3, help="share of real crops per batch")
    t.add_argument(
        "--transplant",
        type=float,
        default=0.3,
        help="share of real crops shown with another province's glyph drawn in",
    )
    t.add_argument(
        "--unseen-weight",
        type=int,
        default=1,
        help="how many times as often provinces with no real crop are drawn (rendered "
        "plates and transplanted glyphs)",
    )
    t.add_argument(
        "--real-loose",
        type=float,
        default=0.0,
        help="share of real crops framed with wide margins on rendered car paint first "
        "(the real crops are all tight; cameras that detect plates themselves "
        "crop loosely)",
    )
    t.add_argument(
        "--real-angled",
        type=float,
        default=0.0,
        help="share of real crops seen from the side first: one end farther away, "
        "inside the upright box a detector draws (the real crops are all seen "
        "nearly face on)",
    )
    t.add_argument(
        "--balance-provinces",
        type=float,
        default=0.0,
        metavar="TAU",
        help="take the training draws' province prior out of the model (logit "
        "adjustment of strength TAU, 1 = the whole prior; 0 = off)",
    )
    t.add_argument("--steps", type=int, default=9_000)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--seed", type=int, default=7)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--minutes", type=float, help="time budget; the schedule ends on time")
    t.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")

    u = sub.add_parser(
        "soup",
        help="average the weights of fine-tunes of one checkpoint into one model (needs the train extra)",
    )
    u.add_argument("checkpoints", nargs="+", help="the .pt files `plates train` wrote")
    u.add_argument("--out", required=True, help="ONNX file to write (its .pt beside it)")

    q = sub.add_parser(
        "quantize",
        help="the model with 8-bit integer convolutions, about twice as fast (needs the train extra)",
    )
    q.add_argument("source", help="the float ONNX model `plates train` or `plates soup` wrote")
    q.add_argument("--out", required=True, help="ONNX file to write")
    q.add_argument(
        "--real",
        action="append",
        required=True,
        help="folder of real crops with labels.csv to calibrate on (repeatable)",
    )
    q.add_argument(
        "--crops",
        type=_count,
        default=200,
        help="real crops to calibrate on, each read in four framings, and as many rendered crops",
    )
    q.add_argument("--seed", type=int, default=7)

    s = sub.add_parser("synth", help="write rendered plates for inspection")
    s.add_argument("out", help="empty or new folder to write PNGs and labels.csv into")
    s.add_argument("-n", type=_count, default=50)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--clean", action="store_true", help="flat plates without camera effects")
    s.add_argument("--scenes", action="store_true", help="plates placed in 1280x720 frames")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(_roi_joined(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return run_to_stdout(lambda: commands.run(args))
    except commands.UserError as exc:
        print(f"plates {args.command}: {printable(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
