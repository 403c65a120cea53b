"""`--log-level debug`, lower case as many tools take it, written into the unit's ExecStart: argparse
refused it (exit 2) and systemd restarted the gateway every 2 s (review 62k)."""

from __future__ import annotations

from gateway.cli import _parser


def test_a_log_level_in_lower_case_is_taken_before_and_after_the_command() -> None:
    assert _parser().parse_args(["run", "-c", "site.toml", "--log-level", "debug"]).log_level == "DEBUG"
    assert _parser().parse_args(["--log-level", "warning", "run", "-c", "site.toml"]).log_level == "WARNING"
