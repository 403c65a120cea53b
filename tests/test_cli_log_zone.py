"""Every command that reads a site config writes its log lines in the site's time (README, Install:
"Lines written before the config is read keep the box's zone"). cca279d set it only in Gateway:
`gateway import` and the other commands stamped their lines in the box's zone."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import main
from gateway.config import load_config
from tests.conftest import site_toml, write_csv


def test_gateway_import_warns_in_the_sites_time_on_a_box_left_on_utc(tmp_path: Path) -> None:
    """A Raspberry Pi left on UTC, the site in Shanghai. The installer runs `gateway import` and
    reads its WARNING (every car without its own slot refused 车位已满) stamped 8 hours off the
    pages and the service's own journal lines, which cca279d put on the site's clock: import reads
    the same config, but never called log_in_zone. Expected: its lines carry the site's time too."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data", capacity=2), encoding="utf-8")
    slots = write_csv(tmp_path / "s.csv", "zone,number\nmain,A-001\nmain,A-002\nmain,A-003\n")
    env = {**os.environ, "TZ": "UTC"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from gateway.cli import main; sys.exit(main(sys.argv[1:]))",
            "import",
            "-c",
            str(config),
            str(slots),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    shanghai = datetime.now(ZoneInfo(load_config(config).site.timezone))  # Asia/Shanghai
    warning = next((line for line in done.stdout.splitlines() if " WARNING " in line), None)
    assert warning is not None, (done.returncode, done.stdout, done.stderr)
    stamp = re.match(r"(\d\d):(\d\d):\d\d ", warning)
    assert stamp is not None, warning
    hours_off = (int(stamp[1]) - shanghai.hour) % 24
    assert hours_off in (0, 23), f"the site's time is {shanghai:%H:%M}; the import's line: {warning}"


def _log_zone() -> object:
    (handler,) = logging.getLogger().handlers
    return getattr(handler.formatter, "zone", None)


@pytest.mark.parametrize(
    "command",
    [
        "import -c {config}",
        "export -c {config} {out}",
        "export-plates -c {config} {out}",
        "outbox -c {config}",
        "user list -c {config}",
        "token add -c {config} lpr-box",
        "import-inside -c {config} {inside}",
    ],
)
def test_every_command_that_reads_the_site_config_logs_in_the_sites_time(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """export, export-plates, outbox, user, token and import-inside read the site config as import
    does; their lines (a busy database's wait, a pruned crop) go to the same journal."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    inside = write_csv(tmp_path / "inside.csv", "plate\n")
    argv = command.format(config=config, out=tmp_path / "out", inside=inside).split()
    try:
        assert main(argv) == 0, capsys.readouterr()
        assert _log_zone() == ZoneInfo("Asia/Shanghai"), argv
    finally:
        logging.getLogger().handlers.clear()


def test_a_config_that_does_not_load_is_still_reported_by_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading the site's zone first must not change what a broken config gives: the command's own
    error and exit status, the log on the box's clock."""
    config = tmp_path / "site.toml"
    config.write_text("[site\n", encoding="utf-8")
    try:
        code = main(["export", "-c", str(config), str(tmp_path / "out")])
        assert _log_zone() is None
    finally:
        logging.getLogger().handlers.clear()
    assert code == 78
    assert "not valid TOML" in capsys.readouterr().err
