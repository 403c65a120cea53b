"""Review 51c: `gateway` commands given wrong arguments, as an installer types them (more on the
demo's --data-dir in test_cli_fix51_demo_data_dir.py)."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.store.admin import import_csv
from gateway.sync.errors import TlsFailed
from gateway.sync.sink import in_sink_terms
from tests.conftest import site_toml, write_csv


def _gateway(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The command as the installer runs it, from the repository root (this checkout's code)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(Path.cwd()),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


# --- 1. bench --work-dir that is a file: a traceback ------------------------------------------


@pytest.mark.parametrize("bench", ["day", "decide"])
def test_bench_work_dir_that_is_a_file_is_a_message_not_a_traceback(tmp_path: Path, bench: str) -> None:
    """`gateway bench day --work-dir results.txt` (a file there already, or a typo) ends in Python's
    FileExistsError traceback from pathlib.mkdir; it should say in one line that --work-dir must be
    a folder, and what to give instead, as every other wrong option of the benches does."""
    taken = tmp_path / "results.txt"
    taken.write_text("figures of last week\n", encoding="utf-8")
    small = {
        "day": ["--slots", "5", "--visitors", "1", "--report-movements", "0"],
        "decide": ["--residents", "10", "--credentials", "12", "--slots", "5", "--decisions", "10"],
    }[bench]
    done = _gateway("bench", bench, *small, "--json", "--work-dir", str(taken))
    assert "Traceback" not in done.stderr, done.stderr[-800:]
    assert done.returncode != 0 and "--work-dir" in done.stderr, (done.returncode, done.stderr[-800:])
    assert f"{taken} is a file, not a folder" in done.stderr, done.stderr[-800:]
    assert taken.read_text(encoding="utf-8") == "figures of last week\n"


# --- 2. bench day --work-dir reused: figures doubled ----------------------------------------------


def _day_figures(work: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    argv = ["bench", "day", "--slots", "5", "--visitors", "1", "--report-movements", "0"]
    argv += ["--sync", "normal", "--json", "--work-dir", str(work)]
    assert main(argv) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    return json.loads(last)


def test_bench_day_run_again_in_its_work_dir_gives_the_same_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway bench day --work-dir DIR --json` run a second time with the same DIR (the help says
    the sites are kept there) simulates the day on top of the first run's database: the same seed's
    day reports twice the entries and twice the revenue (day_revenue_fen 145600 then 291200). The
    same day with the same seed should report the same figures (or the command should refuse a
    used DIR)."""
    work = tmp_path / "bench"
    first = _day_figures(work, capsys)
    second = _day_figures(work, capsys)
    keys = ("day_vehicle_entries", "day_vehicle_exits", "day_revenue_fen", "day_peak_occupancy")
    assert {k: second[k] for k in keys} == {k: first[k] for k in keys}


# --- 3. demo --data-dir pointed at a real site's data directory ------------------------------------


def test_demo_refuses_a_data_dir_that_holds_a_real_sites_database(tmp_path: Path, config: Path) -> None:
    """`gateway demo --data-dir /var/lib/estate-gateway` (the service's folder, typed by an installer
    trying the demo on the box) runs the demo's simulated readers and cameras on the estate's own
    database: fake decisions for the residents' real cards, fake stays and charges, records queued
    upstream, and the stored site id switched to "demo", with no audit row. It should refuse a
    folder holding another site's database, changing nothing."""
    cfg = load_config(config)
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "c.csv", "card,resident_ref\n0012345678,R1\n"),
        ],
    )
    db = cfg.site.data_dir / "gateway.db"

    def state() -> tuple[int, int, list[str]]:
        conn = sqlite3.connect(db)
        try:
            logged = conn.execute("SELECT count(*) FROM access_log").fetchone()[0]
            queued = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
            site = [r[0] for r in conn.execute("SELECT value FROM config_seen WHERE key = 'site_id'")]
            return logged, queued, site
        finally:
            conn.close()

    before = state()
    done = _gateway(
        "demo", "--data-dir", str(cfg.site.data_dir), "--port", str(_free_port()), "--stop-after", "8"
    )
    after = state()
    assert after == before, (
        f"the demo ran on the site's database: access_log/outbox/site_id {before} -> {after}; "
        f"rc={done.returncode}"
    )
    assert done.returncode != 0


# --- 4. export-plates into a folder that cannot be made: told to free disk space -------------------


def test_export_plates_into_a_folder_that_cannot_be_made_says_what_to_do(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway export-plates -c site.toml crops.zip/out` (its parent a file, or a folder that does
    not exist or may not be written) says "Not a directory ... fix: free disk space there or give a
    folder on another disk": the disk is not full, and freeing space does nothing. It should say to
    give a folder the user may write, as `gateway export` does for the same mistake."""
    parent = tmp_path / "crops.zip"
    parent.write_bytes(b"PK")
    rc = main(["export-plates", "-c", str(config), str(parent / "out")])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "free disk space" not in err, err


# --- 5. central-sink cannot connect: told to check [mqtt] keys it does not have ---------------------


def test_central_sink_that_cannot_connect_names_its_own_options(tmp_path: Path) -> None:
    """`gateway central-sink --db central.db --port 1884` with no broker there logs "fix: check [mqtt]
    host and port and that the broker runs; the gateway keeps every record and retries": the sink
    has no site config and no [mqtt] table. Its fix should name its own --host and --port."""
    done = _gateway(
        "central-sink", "--db", str(tmp_path / "central.db"), "--host", "127.0.0.1",
        "--port", str(_free_port()), "--stop-after", "2",
    )
    said = done.stdout + done.stderr
    fixes = [line for line in said.splitlines() if "fix:" in line]
    assert fixes, said[-1500:]
    assert not any("[mqtt]" in line for line in fixes), fixes[0]
    assert any("--host" in line or "--port" in line for line in fixes), fixes[0]


def test_central_sink_tls_failure_names_its_own_options() -> None:
    """The TLS failure's fix, as the link words it for a gateway, names [mqtt] host and ca_file: the
    sink's own are --host, --ca-file, --cert-file and --key-file."""
    failed = TlsFailed("TLS with mqtts://broker:8883 failed: ...", fix="check ca_file ... [mqtt] host ...")
    fix = in_sink_terms(failed).fix  # type: ignore[attr-defined]
    assert "[mqtt]" not in fix and "--ca-file" in fix and "--host" in fix, fix


# --- 6. check-config passes a data_dir the start stops for ----------------------------------------


def test_check_config_says_a_data_dir_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installer writes `data_dir = "/var/lib/estate-gateway/gateway.db"` (the database, not its
    folder). `gateway check-config` prints "ok" with no warning, then the service (and every `-c`
    command) stops with exit 78 "cannot create the data directory ...: File exists". check-config,
    the README's step before the start, should say so."""
    db_file = tmp_path / "gateway.db"
    db_file.write_bytes(b"")
    path = tmp_path / "site.toml"
    path.write_text(site_toml(db_file), encoding="utf-8")
    assert main(["user", "list", "-c", str(path)]) == 78  # what the start and the commands do
    capsys.readouterr()
    rc = main(["check-config", str(path)])
    out, err = capsys.readouterr()
    # Not the /tmp warning (site.data_dir is under /tmp) that tmp_path gets anyway: a refusal.
    assert rc == 78 and "ok (" not in out, (rc, out, err)
    assert f"site.data_dir: {db_file} is a file, not a folder" in err, err
    assert f'data_dir = "{tmp_path}"' in err, err  # the folder it is in, where the database goes


# --- 7. token add --days not a number: exit 2, the README says 1 ---------------------------------


@pytest.mark.parametrize("days", ["90d", "1.5"])
def test_token_add_with_days_not_a_number_exits_as_the_readme_says(
    config: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    """README, CLI: "`token add` takes what the admin page takes (exit 1 otherwise): ... `--days` 1 to
    3650 or none". `gateway token add -c site.toml tools --days 90d` (or `--days 1.5`) exits 2 with
    argparse's usage line instead, unlike `--days 0` (exit 1 with the range and the fix)."""
    try:
        rc = main(["token", "add", "-c", str(config), "tools", "--days", days])
    except SystemExit as exc:
        rc = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert rc == 1, err
    assert f"--days {days}: not a whole number" in err and "1 to 3650 (--days 90)" in err, err


# --- 8. check-config given a folder: told to check permissions and UTF-8 --------------------------


def test_check_config_given_a_folder_says_to_give_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway check-config /etc/estate-gateway` (the folder, not site.toml) says "cannot read the
    file: [Errno 21] Is a directory ... fix: check its permissions and that it is UTF-8 text": neither
    is what is wrong. It should say to give the config file in it (e.g. .../site.toml)."""
    folder = tmp_path / "estate-gateway"
    folder.mkdir()
    (folder / "site.toml").write_text(textwrap.dedent(site_toml(tmp_path / "data")), encoding="utf-8")
    rc = main(["check-config", str(folder)])
    err = capsys.readouterr().err
    assert rc == 78, err
    assert "permissions" not in err and "UTF-8" not in err, err
    assert f"give the config file in it, e.g. {folder / 'site.toml'}" in err, err
