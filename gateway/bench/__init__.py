"""`gateway bench NAME`: each benchmark prints its figures, and one JSON object last with --json.

Each entry: name -> (summary, add_arguments(parser), run(args) -> exit status). Imports stay lazy
so that `gateway --help` does not load what the benchmarks need.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def _decide_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.decide import add_arguments

    add_arguments(p)


def _decide(args: argparse.Namespace) -> int:
    from gateway.bench.decide import bench_decide

    return bench_decide(args)


def _readers_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.readers import add_arguments

    add_arguments(p)


def _readers(args: argparse.Namespace) -> int:
    from gateway.bench.readers import bench_readers

    return bench_readers(args)


def _import_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.import_lanes import add_arguments

    add_arguments(p)


def _import(args: argparse.Namespace) -> int:
    from gateway.bench.import_lanes import bench_import

    return bench_import(args)


def _sync_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.sync import add_arguments

    add_arguments(p)


def _sync(args: argparse.Namespace) -> int:
    from gateway.bench.sync import bench_sync

    return bench_sync(args)


def _day_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.day import add_arguments

    add_arguments(p)


def _ui_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.ui import add_arguments

    add_arguments(p)


def _clips_args(p: argparse.ArgumentParser) -> None:
    from gateway.bench.clips import add_arguments

    add_arguments(p)


def _clips(args: argparse.Namespace) -> int:
    from gateway.bench.clips import bench_clips

    return bench_clips(args)


def _day(args: argparse.Namespace) -> int:
    from gateway.bench.day import bench_day

    return bench_day(args)


def _ui(args: argparse.Namespace) -> int:
    from gateway.bench.ui import bench_ui

    return bench_ui(args)


BENCHES: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[Any], int]]] = {
    "decide": (
        "decisions, import, start-up and memory with a large site loaded",
        _decide_args,
        _decide,
    ),
    "import": (
        "a large `gateway import` while a lane writes: how long the lane waits",
        _import_args,
        _import,
    ),
    "readers": (
        "card wire-to-decision latency under camera load; reader unplug and reconnect",
        _readers_args,
        _readers,
    ),
    "day": (
        "a simulated day at a 1,000-slot estate, and the daily report of a 20,000-movement day",
        _day_args,
        _day,
    ),
    "sync": (
        "MQTT: backlog drain to a local Mosquitto, a 100,000-entry snapshot applied while cards are decided",
        _sync_args,
        _sync,
    ),
    "clips": (
        "event clips: a camera's cost to keep its last seconds, and one clip's encoding and size",
        _clips_args,
        _clips,
    ),
    "ui": (
        "guard pages: a decision on the wire to shown on 20 connected pages; live page weight",
        _ui_args,
        _ui,
    ),
}
