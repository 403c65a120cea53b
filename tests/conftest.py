"""Fixtures shared by the tests: a small site written as TOML, and a running gateway on a real SQLite file."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from gateway.config import SiteConfig, parse_config
from gateway.parking.report import build_report
from gateway.runtime import logsetup
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests import fresh_schema

# New databases from the schema migrated once per test process (tests/fresh_schema.py).
fresh_schema.install()

# Property tests assert behaviour, not speed (benchmarks measure that): Hypothesis's 200 ms
# deadline per example is a timed assertion that a loaded CI machine fails now and then (a fee
# property's example took 405 ms under four workers on two cores).
settings.register_profile("estate", deadline=None)
settings.load_profile("estate")

# Plates rendered by tests use exactly these fonts (scripts/system-deps installs them), so the
# images, and what the recognizer makes of them, are the same on every machine.
os.environ.setdefault("PLATES_FONTS", "wqy-zenhei.ttc,DejaVuSansCondensed-Bold.ttf")


# Figures the tests measure (the sync tests' duplicates after kills), printed after the run. A
# test hands its figure to `record_property("sync_figure", ...)`: the report carries it back from
# an xdist worker to the process that prints the summary.
REPORT: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        REPORT.extend(str(value) for name, value in report.user_properties if name == "sync_figure")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("sync figures")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _no_command_logging_left() -> Iterator[None]:
    """A command run in-process (`main(["import", ...])`) sets the root logger to write to the
    stdout pytest gave that test (logsetup.setup_logging); left there, a later test's lines met
    that stream closed ("--- Logging error --- ... I/O operation on closed file" in the run's
    output). Its handler and level go with the test that set them."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if isinstance(h, logsetup._Stdout)]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def hide_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make the box look as if the fast extra (onnxruntime) were not installed."""
    real_find_spec = importlib.util.find_spec

    def hide() -> None:
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a),
        )

    return hide


# The test site's north gate: a car entrance and exit into zone "main", and a pedestrian door.
GATE_AND_LANES = """
[[gates]]
id = "north"
name = "北门"

[[lanes]]
id = "car-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "car-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"

[[lanes]]
id = "door"
gate = "north"
direction = "entrance"
type = "pedestrian"
"""

# The tariff the tests charge by: the first half hour free, then 5元 for the first hour and 2元 an
# hour after it, at most 30元 a day; a visitor's first two hours free.
TARIFF_TOML = """
[parking]
grace_minutes = 15

[[parking.tariffs]]
version = "t1"
effective_from = 2025-01-01

[parking.tariffs.car]
free_minutes = 30
first_period_minutes = 60
first_period_fen = 500
period_minutes = 60
period_fen = 200
daily_cap_fen = 3000
visitor_free_minutes = 120
"""

SITE_TOML = (
    """
[site]
id = "test-site"
name = "测试小区"
data_dir = "{data_dir}"

[policy]
no_slot = "{no_slot}"
shared_slot_second_car = "{shared}"
anti_passback = "{anti_passback}"

[[zones]]
id = "main"
name = "车库"
capacity = {{ car = {capacity}, motorcycle = 5, bicycle = 5 }}

"""
    + GATE_AND_LANES
    + """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
{pulse_log}

[[devices]]
id = "door-lock"
lane = "door"
kind = "relay"
driver = "simulated"

[http]
port = {port}
"""
)


def site_toml(data_dir: Path, **overrides: object) -> str:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "no_slot": "refuse",
        "shared": "temporary",
        "anti_passback": "soft",
        "capacity": 10,
        "pulse_log": "",
        "port": 8080,
    }
    values.update(overrides)
    return textwrap.dedent(SITE_TOML.format(**values))


@pytest.fixture
def site_cfg(tmp_path: Path) -> SiteConfig:
    return parse_config(site_toml(tmp_path / "data"), "site.toml")


@pytest.fixture
def gateway(site_cfg: SiteConfig) -> Iterator[Gateway]:
    gw = Gateway(site_cfg)
    yield gw
    gw.conn.close()


def report_so_far(gw: Gateway) -> dict[str, Any]:
    """A daily report of the 24 hours up to the next whole hour in the site's time: all a test
    decided on the real clock in the last hours, whatever the time of day it runs. (Periods from a
    fixed 06:00 split such a test's cars between two reports when it ran at 06:00 in Shanghai.)"""
    next_hour = (gw.now().astimezone(gw.site.tz) + timedelta(hours=1)).replace(
        minute=0, second=0, microsecond=0
    )
    return build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=(next_hour - timedelta(days=1)).date(),
        hour=next_hour.hour,
        tz=gw.site.tz,
        built_at=gw.now(),
    )


def write_csv(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def registered_plates_site(
    tmp_path: Path,
    vehicles: str,
    *,
    slots: str = "",
    plate_match: str = "exact",
    lanes: tuple[str, ...] = ("car-in",),
    extra: str = "",
    **overrides: object,
) -> Gateway:
    """A gateway on the test site (site_toml(**overrides), then `extra`: a camera, a tariff), its
    `lanes` matching plates by `plate_match`, with residents R1 (3栋 2单元 张三) and R2 (5栋 1单元 李四)
    and their `vehicles` ("plate,resident_ref" lines) and `slots` ("zone,number,resident_ref,plates"
    lines) imported. The site is also written to tmp_path/site.toml, for the `gateway` command."""
    text = site_toml(tmp_path / "data", **overrides) + extra
    for lane in lanes:
        text = text.replace(f'id = "{lane}"\n', f'id = "{lane}"\nplate_match = "{plate_match}"\n', 1)
    (tmp_path / "site.toml").write_text(text, encoding="utf-8")
    cfg = parse_config(text, "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,5栋,1单元,李四\n"),
        write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{vehicles}"),
    ]
    if slots:
        files.append(write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\n{slots}"))
    import_csv(cfg, files)
    return Gateway(cfg)


# Holds the write lock until its stdin closes.
_HOLD = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()"
)


@contextlib.contextmanager
def locked_by_another_process(db_path: Path) -> Iterator[Callable[[], None]]:
    """The database held locked by another process (a `gateway import` suspended with Ctrl-Z),
    until the block ends or the value given is called to let go."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def let_go() -> None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)

    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield let_go
    finally:
        if holder.poll() is None:
            let_go()


def query_plan(conn: sqlite3.Connection, sql: str, *args: object) -> str:
    """SQLite's plan for `sql` with `args`, its steps joined: which tables it scans, which indexes it uses."""
    return " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
