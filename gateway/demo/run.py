"""`gateway demo`: a self-contained site with simulated devices and generated traffic."""

from __future__ import annotations

import logging
import os
import secrets
import shlex
import shutil
import sqlite3
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.accounts.passwords import hash_password
from gateway.config.models import SiteConfig
from gateway.demo.seed import write_site_csvs
from gateway.demo.traffic import DemoTraffic
from gateway.errors import SetupError
from gateway.runtime.gateway import Gateway
from gateway.runtime.serve import serve
from gateway.store.accounts import create_account, list_accounts
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME, open_database

log = logging.getLogger(__name__)

SHIPPED_CONFIG = Path(__file__).with_name("demo.toml")  # package data: an installed gateway has it
CHECKOUT = Path(__file__).resolve().parents[2]


def seed_if_empty(cfg: SiteConfig) -> None:
    db_path = cfg.site.data_dir / DB_NAME
    db = open_database(db_path)
    empty = db.conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0
    db.conn.close()
    if not empty:
        return
    zone = cfg.zones[0].id
    paths = write_site_csvs(Path(cfg.site.data_dir) / "seed", residents=250, cards=300, slots=250, zone=zone)
    counts = import_csv(cfg, list(paths.values()))
    log.info("demo data seeded: %s", ", ".join(f"{n} {k}" for k, n in counts.items()))


def demo_login(cfg: SiteConfig) -> str:
    """How to log in to the demo's guard pages. On first start an admin is made with a random
    password, printed this once; the demo never has a fixed password either. Later starts name the
    command that adds an account, with the config beside the demo's database (own_config)."""
    db = open_database(cfg.site.data_dir / DB_NAME)
    try:
        if list_accounts(db.conn):
            config = shlex.quote(str(cfg.site.data_dir / SHIPPED_CONFIG.name))
            return (
                "log in with the account made when the demo first started, or add one: "
                f"{gateway_command()} user add -c {config} --admin NAME"
            )
        password = secrets.token_urlsafe(9)
        now = datetime.now(ZoneInfo(cfg.site.timezone))
        hashed = hash_password(password)
        create_account(db.conn, now, "demo", "admin", "演示管理员", "admin", hashed)
    finally:
        db.conn.close()
    return f"log in as admin with password {password} (shown this once; change it on the admin page)"


def gateway_command() -> str:
    """The running gateway as the user can run it again from their shell. scripts/demo runs
    .venv/bin/gateway, which nothing puts on the PATH: a bare `gateway` there is "command not
    found". The bare name only where the PATH finds this same gateway."""
    argv0 = Path(sys.argv[0])
    beside_python = Path(sys.executable).parent / "gateway"  # a venv's console script
    for candidate in (argv0, beside_python):
        if candidate.name == "gateway" and candidate.is_file():
            on_path = shutil.which("gateway")
            if on_path is not None and os.path.samefile(on_path, candidate):
                return "gateway"
            return shlex.quote(str(candidate.absolute()))
    return "gateway" if shutil.which("gateway") else f"{shlex.quote(sys.executable)} -m gateway.cli"


def run_site(cfg: SiteConfig, started: float, stop_after: float | None = None) -> None:
    """Run a site; its simulated readers and cameras (if any) present the site's own credentials."""
    traffic = DemoTraffic(cfg.site.data_dir / DB_NAME, cfg)
    gw = Gateway(cfg, chooser_for=traffic.chooser_for)
    serve(gw, started, stop_after)


def default_data_dir() -> Path:
    """data/demo in a source checkout (scripts/demo, as the README says); installed, the user's
    data folder: site-packages is no place for a database, and may not be writable."""
    if (CHECKOUT / "scripts" / "demo").is_file():
        return CHECKOUT / "data" / "demo"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"  # the XDG default
    return base / "estate-gateway" / "demo"


def refuse_another_site(data_dir: Path) -> None:
    """A database in `data_dir` that is not the demo's own is refused before anything is written
    there: `gateway demo --data-dir /var/lib/estate-gateway` ran the simulated readers and cameras
    on the estate's database (decisions for the residents' real cards, stays and charges, records
    queued upstream, the stored site id switched to the demo's, none of it audited)."""
    db = data_dir / DB_NAME
    try:
        if not db.exists():
            return  # a new demo (a folder it may not write is own_config's to say)
    except OSError:
        return
    site = _site_of_database(db)
    if site == _demo_site_id():
        return
    if site is None and (data_dir / SHIPPED_CONFIG.name).is_file():
        return  # seeded by the demo, stopped before its first start recorded the id
    whose = f"site {site!r}" if site else "a site the demo did not make"
    raise SetupError(
        f"--data-dir {data_dir} holds the database of {whose}, not the demo's: the demo's simulated "
        "devices would make decisions, stays and records to send upstream in it; nothing was changed",
        fix="give --data-dir an empty folder, such as /tmp/demo, or leave --data-dir out (the demo's "
        "own folder: data/demo in a source checkout, else ~/.local/share/estate-gateway/demo)",
    )


def _site_of_database(db: Path) -> str | None:
    """The site id a gateway database's records went upstream under (config_seen); None if its
    gateway never started, or it is not a database this version reads. Opened as immutable: even a
    read-only connection leaves -wal and -shm files beside it, owned by whoever ran the demo (root,
    with sudo), which the service's user then may not write."""
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?immutable=1", uri=True)
        try:
            row = conn.execute("SELECT value FROM config_seen WHERE key = 'site_id'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _demo_site_id() -> str:
    with SHIPPED_CONFIG.open("rb") as f:
        return str(tomllib.load(f)["site"]["id"])


def own_config(data_dir: Path) -> Path:
    """The shipped demo config copied beside the demo's database (its data_dir is "."), so that
    commands such as `gateway user add -c DATA_DIR/demo.toml` reach that database. Copied at each
    start: the copy is always the running version's."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copyfile(SHIPPED_CONFIG, data_dir / SHIPPED_CONFIG.name))
    except OSError as exc:
        raise SetupError(
            f"cannot write the demo's folder {data_dir}: {exc.strerror or exc} "
            "(fix: give --data-dir a folder you may write to, e.g. --data-dir /tmp/demo)"
        ) from exc


def run_demo(cfg: SiteConfig, started: float, stop_after: float | None = None) -> None:
    """cfg: read from own_config's copy."""
    seed_if_empty(cfg)
    how = demo_login(cfg)
    http = cfg.http
    print(f"\n  guard pages: http://{http.listen}:{http.port}/\n  {how}\n", flush=True)
    run_site(cfg, started, stop_after)
