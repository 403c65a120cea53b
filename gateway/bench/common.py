"""Shared by the benchmarks: percentiles, printing figures, and a site config written for the run."""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_SITE = """
[site]
id = "bench"
name = "基准小区"
data_dir = "{data_dir}"

[[zones]]
id = "main"
name = "车库"
capacity = {{ car = 80000, motorcycle = 1000, bicycle = 1000 }}

[[gates]]
id = "main"
name = "大门"

[[lanes]]
id = "car-in"
gate = "main"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "car-out"
gate = "main"
direction = "exit"
type = "vehicle"
zone = "main"

[[lanes]]
id = "door"
gate = "main"
direction = "entrance"
type = "pedestrian"

[http]
port = {port}

[storage]
sync = "{sync}"
"""


def work_folder(text: str) -> Path:
    """An argparse type: --work-dir, a folder kept after the run, made if it is not there. A file
    there or above it (`--work-dir results.txt`), or a folder this user may not write in, is a
    usage line before anything runs, as every other wrong option is: mkdir's FileExistsError
    ended the bench in a traceback."""
    path = Path(text)
    there = next(p for p in (path, *path.parents) if p.exists())  # the folder it is made in ("." at worst)
    if not there.is_dir():
        where = "is a file" if there == path else f"is under {there}, a file"
        raise argparse.ArgumentTypeError(
            f"{text} {where}, not a folder: give a new folder's name (it is made), or leave --work-dir "
            "out for a temporary one"
        )
    if not os.access(there, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"{text}: this user may not write in {there}; give a folder of yours, such as /tmp/bench"
        )
    return path


def in_work_dir(args: argparse.Namespace, prefix: str, run: Callable[[argparse.Namespace, Path], int]) -> int:
    """Runs a bench in its --work-dir, kept after, or else in a new temporary folder removed after."""
    work = args.work_dir or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def at_least(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `least` (and at most `most`, where the site
    config bounds the key the bench writes it to), so that a bad value is a usage line before
    anything runs, not a traceback or a refused temporary config after the whole set-up."""

    def whole(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if n < least or (most is not None and n > most):
            wanted = f"{least} or more" if most is None else f"{least} to {most}"
            raise argparse.ArgumentTypeError(f"{n}: give {wanted}")
        return n

    return whole


count = at_least(1)  # things to make or time
zero_or_more = at_least(0)  # things a run can do without


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text}: give a number")
    return value


def duration(text: str) -> float:
    """An argparse type: a time to wait, 0 or more (in the unit the option names)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: give 0 or more")
    return value


def per_second(text: str) -> float:
    """An argparse type: a rate, more than 0 a second."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: give more than 0 a second")
    return value


def frame_size(text: str) -> tuple[int, int]:
    """An argparse type: a frame size WxH in pixels, 1280x720."""
    width, x, height = text.lower().partition("x")
    if not (x and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: give the size as WxH in pixels, such as 1280x720")
    return int(width), int(height)


def percentile(values: list[float], pct: float) -> float | None:
    """The value under which pct % of values lie; None with no values (a figure printed as null)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def rounded(value: float | None, digits: int) -> float | None:
    """A figure rounded for printing; None (no samples) stays None."""
    return None if value is None else round(value, digits)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_bench_config(work: Path, sync: str = "full") -> Path:
    path = work / "site.toml"
    text = BENCH_SITE.format(data_dir=work / "data", port=free_port(), sync=sync)
    path.write_text(text, encoding="utf-8")
    return path


def report(figures: dict[str, Any], as_json: bool, notes: list[str] | None = None) -> None:
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"  {key:<{width}}  {value}")
    for note in notes or []:
        print(f"  note: {note}")
    if as_json:
        print(json.dumps(figures, allow_nan=False))  # NaN is not JSON: a figure with no samples is None


def time_to_ready(config: Path, timeout: float = 30) -> tuple[float, int]:
    """Start `gateway run` like systemd does; seconds until READY=1, and its resident memory then."""
    sock_path = config.parent / "notify.sock"
    sock_path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(timeout)
        env = {**os.environ, "NOTIFY_SOCKET": str(sock_path)}
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                message = sock.recv(4096).decode()
                if "READY=1" in message:
                    ready = time.perf_counter() - started
                    break
            time.sleep(1.0)  # let the first requests and threads settle before reading memory
            rss_kb = _rss_kb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return ready, rss_kb


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def fsync_p99_ms(work: Path, n: int = 300) -> float | None:
    """How long this disk takes to flush a small write: the floor under any durable commit."""
    path = work / "fsync.probe"
    times = []
    with open(path, "wb") as f:
        for _ in range(n):
            f.write(b"x" * 512)
            t = time.perf_counter()
            f.flush()
            os.fsync(f.fileno())
            times.append((time.perf_counter() - t) * 1000)
    path.unlink()
    return percentile(times, 99)
