"""Bench figures that measure something other than what their names and the docs say."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from types import SimpleNamespace

import cv2
import pytest

from gateway.bench import dayrun
from gateway.cli import main as gateway_main
from gateway.runtime.gateway import Gateway


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_day_decisions_per_s_counts_the_decisions_it_times(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gateway bench day` prints day_decisions_per_s as day_movements / day_s, but day_s also times
    the evening-before entries that day_movements leaves out (~1,000 of ~3,500 decisions on the
    default day), so the rate is understated by about a quarter; it should be decisions timed / day_s."""
    timed = {"decisions": 0, "running": False}
    run, handle, decide_now = dayrun._Sim.run, Gateway.handle, Gateway.decide_now

    def counting_run(self):  # the part of simulate_day that day_s times
        timed["running"] = True
        try:
            return run(self)
        finally:
            timed["running"] = False

    def counting_handle(self, p, received=None):
        timed["decisions"] += timed["running"]
        return handle(self, p, received)

    def counting_decide_now(self, prepare):
        timed["decisions"] += timed["running"]
        return decide_now(self, prepare)

    seconds: list[float] = []
    simulate = dayrun.simulate_day

    def keep_seconds(*a, **k):
        day = simulate(*a, **k)
        seconds.append(day.seconds)
        return day

    monkeypatch.setattr(dayrun._Sim, "run", counting_run)
    monkeypatch.setattr(Gateway, "handle", counting_handle)
    monkeypatch.setattr(Gateway, "decide_now", counting_decide_now)
    monkeypatch.setattr("gateway.bench.day.simulate_day", keep_seconds)
    argv = ["--log-level", "WARNING", "bench", "day", "--slots", "200", "--visitors", "60"]
    assert gateway_main(argv + ["--sync", "normal", "--report-movements", "0", "--json"]) == 0
    figures = last_json(capsys.readouterr().out)
    # The rate is the bench's figure (docs/benchmarks.md); checked here is what it is made of: the
    # decisions it counts are those made in the time it divides by, and the division itself (the
    # same float day_s came from: no wall-clock tolerance).
    assert figures["day_decisions"] == timed["decisions"] > figures["day_movements"], (
        f"day_decisions={figures['day_decisions']}, but {timed['decisions']} decisions were made in the "
        f"time day_s measures (day_movements={figures['day_movements']})"
    )
    assert figures["day_decisions_per_s_sync_normal"] == round(timed["decisions"] / seconds[0])


def test_bench_import_s_is_the_import_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`gateway bench import` reports import_s as "the import's own time" (README), but it stops the
    clock only after the lane process has woken from its 50 ms sleep, sent its waits and exited:
    40-70 ms more than `import_csv` took, twice the import itself on a small list."""
    import gateway.bench.import_lanes as il
    from gateway.bench.common import write_bench_config
    from gateway.config import load_config

    # import_s is the bench's figure (docs/benchmarks.md); checked here on a fake clock that moves
    # only while import_csv runs, each reading noting whether the lane process was still running:
    # the clock stops as the import returns, before the lane is told to stop and joined.
    clock = {"now": 100.0}
    readings: list[bool] = []

    def perf_counter() -> float:
        readings.append(any(p.name == "bench-lane" for p in multiprocessing.active_children()))
        return clock["now"]

    real = il.import_csv

    def one_second_import(*a, **k):
        try:
            return real(*a, **k)
        finally:
            clock["now"] += 1.0

    monkeypatch.setattr(il, "time", SimpleNamespace(perf_counter=perf_counter))
    monkeypatch.setattr(il, "import_csv", one_second_import)
    cfg = load_config(write_bench_config(tmp_path))
    result = il.lane_wait_during_import(cfg, tmp_path, 0)
    assert result.import_s == 1.0
    assert readings == [True, True], (
        f"the lane process running at each reading of the import's clock: {readings} "
        "(the lane's stopping counted as the import)"
    )


def test_plates_bench_threads_under_one_refused_or_reported_as_used(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/plates.md: a count under 1 is refused with exit 2; `plates bench --threads 0` runs and
    prints "opencv_threads": 0 while OpenCV ran its stages on 1 thread (0 = sequential). It should
    be refused, or print the threads OpenCV used."""
    from plates.cli import main as plates_main

    before = cv2.getNumThreads()
    try:
        try:
            status = plates_main(["bench", "--frames", "1", "--threads", "0", "--json"])
        except SystemExit as exited:
            assert exited.code == 2
            return
        used = cv2.getNumThreads()
    finally:
        cv2.setNumThreads(before)
    assert status == 0
    figures = last_json(capsys.readouterr().out)
    assert figures["opencv_threads"] == used, (
        f"opencv_threads={figures['opencv_threads']} printed, OpenCV used {used}"
    )


@pytest.mark.parametrize("argv", [["bench"], ["eval", "eval-dir"]], ids=" ".join)
@pytest.mark.parametrize("threads", ["0", "-1"])
def test_plates_threads_under_one_is_a_usage_line(
    argv: list[str], threads: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from plates.cli import _parser

    with pytest.raises(SystemExit) as exited:
        _parser().parse_args([*argv, "--threads", threads])
    assert exited.value.code == 2
    assert f"{threads}: give 1 or more" in capsys.readouterr().err
