"""Review of fix 46's bench options (de9efb3): bench sync's --inflight and --step-rows were left as
plain whole numbers, so a bad one started mosquitto and ended in exit 78 about a temporary site.toml."""

from __future__ import annotations

import pytest

from gateway.cli import main


def _bench_sync(*options: str) -> int:
    try:
        return main(["--log-level", "WARNING", "bench", "sync", *options, "--events", "1", "--entries", "1"])
    except SystemExit as exited:  # argparse's usage line
        return int(exited.code or 0)


@pytest.mark.parametrize(
    "option, value",
    [("--inflight", "0"), ("--inflight", "1001"), ("--step-rows", "9"), ("--step-rows", "100001")],
)
def test_bench_sync_sizes_outside_the_configs_bounds_are_a_usage_line_and_exit_2(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/benchmarks.md: a bad option value "gets a usage line and exit status 2 before anything
    runs"; these are the bounds of [mqtt] inflight and apply_step_rows, which the bench writes."""
    status = _bench_sync(option, value)
    said = capsys.readouterr()
    assert status == 2 and f"argument {option}" in said.err, (
        f"exit {status}; said: {(said.out + said.err).strip()[-400:]!r}"
    )
