"""`gateway bench readers` runs end to end and ends with one JSON line of unit-named figures."""

from __future__ import annotations

import json

import pytest

from gateway.cli import main


def test_bench_readers_prints_its_figures_as_json_last(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--log-level",
        "ERROR",
        "bench",
        "readers",
        "--json",
        "--cards",
        "20",
        "--unplugs",
        "1",
        "--unplugged-s",
        "0.2",
        "--frame-size",
        "320x240",
    ]
    assert main(args) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["cards"] == 20 and figures["sync"] == "full"
    for key in (
        "card_wire_to_presented_p99_ms",
        "card_wire_to_decision_p99_ms",
        "card_wire_to_recorded_p99_ms",
        "unplug_to_offline_max_s",
        "replug_to_online_max_s",
    ):
        assert isinstance(figures[key], float) and figures[key] >= 0
    assert figures["card_wire_to_decision_p50_ms"] <= figures["card_wire_to_recorded_p50_ms"]
