"""Bad option values to `gateway bench ...`: a clear message and a non-zero exit, never a traceback,
and with --json never a last line that is not JSON."""

from __future__ import annotations

import json

import pytest

from gateway.cli import main


def run_bench(argv: list[str]) -> int:
    """Exit status as the user sees it; an exception escaping main() is the traceback they see."""
    try:
        return main(["--log-level", "WARNING", "bench", *argv])
    except SystemExit as exited:  # argparse's usage line
        return int(exited.code or 0)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"`gateway bench {' '.join(argv)}` ends in a traceback: {exc!r}") from exc


def test_readers_frame_size_not_wxh_is_a_message() -> None:
    """`gateway bench readers --frame-size 1280` (or 720p, 1280*720) ends in
    "ValueError: not enough values to unpack"; it should say the size is WxH and exit non-zero."""
    assert run_bench(["readers", "--frame-size", "1280", "--cards", "1", "--unplugs", "1"]) != 0


def test_decide_with_fewer_than_four_decisions_is_a_message() -> None:
    """`gateway bench decide --decisions 3` runs the import and the worker, then ends in
    "ValueError: max() arg is an empty sequence" (a quarter of 3 is no paced decision at all)."""
    argv = ["decide", "--residents", "30", "--credentials", "60", "--slots", "10", "--decisions", "3"]
    run_bench(argv)  # refused, or figures printed: either way no traceback


def test_day_with_no_slots_is_a_message() -> None:
    """`gateway bench day --slots 0` simulates the day, then ends in "ZeroDivisionError: division by
    zero" when it scales the report's day; it should refuse the value or print its figures."""
    argv = ["day", "--slots", "0", "--visitors", "0", "--sync", "normal", "--json"]
    run_bench(argv)  # refused, or figures printed: either way no traceback


def test_ui_negative_gap_is_a_message() -> None:
    """`gateway bench ui --gap-ms -5` seeds the site, serves it, then ends in
    "ValueError: sleep length must be non-negative"."""
    argv = ["ui", "--pages", "1", "--browser-pages", "0", "--events", "2", "--residents", "40"]
    assert run_bench(argv + ["--gap-ms", "-5"]) != 0


def test_ui_last_line_is_json_when_no_page_is_connected(capsys: pytest.CaptureFixture[str]) -> None:
    """`gateway bench ui --pages 0 --json` exits 0 with "shown_p50_ms": NaN on its last line, which
    is not JSON (jq, JSON.parse refuse it); it should refuse --pages 0 or print null."""
    argv = ["ui", "--pages", "0", "--events", "2", "--residents", "40", "--json"]
    status = run_bench(argv)
    if status != 0:
        return
    last = capsys.readouterr().out.strip().splitlines()[-1]

    def no_constant(name: str) -> None:
        raise AssertionError(f"the last line holds {name}, not JSON: {last}")

    json.loads(last, parse_constant=no_constant)


@pytest.mark.parametrize(
    "argv",
    [
        ["readers", "--frame-size", "720p"],
        ["readers", "--frame-size", "1280*720"],
        ["readers", "--frame-size", "0x720"],
        ["readers", "--unplugs", "0"],
        ["readers", "--cards", "0"],
        ["readers", "--camera-fps", "0"],
        ["readers", "--unplugged-s", "-1"],
        ["decide", "--residents", "0"],
        ["decide", "--decisions", "3"],
        ["day", "--slots", "0"],
        ["day", "--visitors", "-1"],
        ["ui", "--pages", "0"],
        ["ui", "--gap-ms", "nan"],
        ["import", "--rows", "0"],
        ["sync", "--events", "0"],
    ],
    ids=" ".join,
)
def test_a_bad_value_is_a_usage_line_before_anything_runs(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_bench(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {argv[1]}" in err and "Traceback" not in err


def test_decide_credentials_that_leave_no_card_are_refused_first(capsys: pytest.CaptureFixture[str]) -> None:
    """30 residents have about 33 cars: 30 credentials leave no card, and the bench once chose
    from an empty sample after the whole import."""
    assert run_bench(["decide", "--residents", "30", "--credentials", "30", "--decisions", "4"]) == 1
    err = capsys.readouterr().err
    assert "--credentials 30 leaves no card" in err and "fix: give --credentials over 33" in err


def test_a_figure_with_no_samples_is_null_on_the_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.bench.common import percentile, report, rounded

    no_samples: list[float] = []
    figures = {
        "shown_p95_ms": rounded(percentile(no_samples, 95), 1),
        "shown_max_ms": rounded(max(no_samples, default=None), 1),
    }
    report(figures, True)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "shown_p95_ms": None,
        "shown_max_ms": None,
    }


def test_readers_unplugs_more_times_than_it_has_cards() -> None:
    """Each replug is proven by a card read: the bench took card number i for unplug i, an
    IndexError past the 1,000 cards of its site (`--unplugs 1001`)."""
    import os
    import queue
    from argparse import Namespace
    from types import SimpleNamespace

    from gateway.bench.readers import _time_unplugs

    health = SimpleNamespace(online=True)
    into, out = os.pipe()

    class Port:  # the pty's part the loop uses: plugged state and the master end
        master = out

        def unplug(self) -> None:
            health.online = False

        def plug(self) -> None:
            health.online = True

    decided: queue.Queue = queue.Queue()
    for _ in range(3):
        decided.put((0.0, None))
    try:
        args = Namespace(unplugs=3, unplugged_s=0.0)
        offline, online = _time_unplugs(Port(), health, decided, ["0A00000001"], args)  # type: ignore[arg-type]
    finally:
        os.close(into)
        os.close(out)
    assert len(offline) == len(online) == 3
