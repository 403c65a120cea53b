"""`gateway bench ui` prints its figures and, with --json, one JSON object as its last line."""

from __future__ import annotations

import json

import pytest

from gateway.cli import main


def test_bench_ui_reports_latency_and_page_weight(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "--log-level",
                "WARNING",
                "bench",
                "ui",
                "--pages",
                "3",
                "--browser-pages",
                "1",
                "--events",
                "12",
                "--gap-ms",
                "20",
                "--json",
            ]
        )
        == 0
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    assert figures["pages_connected"] == 3 and figures["events"] == 12
    assert figures["not_shown"] == 0
    assert 0 < figures["live_page_first_load_bytes"] <= 300 * 1024
    assert figures["shown_p95_ms"] > 0
