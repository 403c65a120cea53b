"""The `gateway` command: run, demo, check-config, import, import-inside, export, export-plates, backup,
user, token, outbox, bench."""

from __future__ import annotations

import argparse
import logging
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import EX_CONFIG, ConfigError, SiteConfig, filecheck, load_config
from gateway.errors import GatewayError, ImportRejected, InputUnreadable, SetupError, StorageError
from plates.closed_pipe import run_to_stdout

if TYPE_CHECKING:  # the store is imported when a command needs it
    from gateway.store.database import StorageCause

log = logging.getLogger("gateway")

EX_DATAERR = 65
EX_NOINPUT = 66  # sysexits.h: an input file missing or unreadable
MAX_PORT = 65535
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from gateway.runtime.logsetup import setup_logging

    setup_logging(args.log_level)
    try:
        _log_in_site_zone(args)
        return run_to_stdout(lambda: int(args.func(args) or 0))  # `| head -1`: quietly, 141
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EX_CONFIG
    except (StorageError, SetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1 if _passes(exc.__cause__, _data_dir(args)) else EX_CONFIG
    except ImportRejected as exc:
        print(f"import refused: {exc}", file=sys.stderr)
        return EX_DATAERR
    except InputUnreadable as exc:  # a CSV not there or not readable: no bad row
        print(f"error: {exc}", file=sys.stderr)
        return EX_NOINPUT
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sqlite3.OperationalError as exc:  # past the busy timeout, a full disk: no traceback
        return _database_failed(exc, _data_dir(args))
    except sqlite3.DatabaseError as exc:  # a damaged page, found by the first read of it
        database = _site_database(args, exc)
        if database is None:
            raise
        from gateway.store.database import damaged_database

        print(f"error: {damaged_database(database, exc)}", file=sys.stderr)
        return EX_CONFIG  # restarted, it finds the same damage: for the installer (README, Exit status)
    except KeyboardInterrupt:
        return 130


def _log_in_site_zone(args: argparse.Namespace) -> None:
    """The log's times in the site's zone for every command given a site config (`-c`: import,
    export, user, outbox, ...), as the service's own lines (README, Install): here, the one place
    they all go through, not in each command's module. A config that does not load is left to the
    command, which says what is wrong as it always has; its lines keep the box's zone."""
    path = getattr(args, "config", None)
    if path is None:
        return
    from zoneinfo import ZoneInfo

    from gateway.runtime.logsetup import log_in_zone

    try:
        cfg = load_config(path, warn=False)  # a few milliseconds; the command's own load warns
    except ConfigError:
        return
    log_in_zone(ZoneInfo(cfg.site.timezone))


def _site_database(args: argparse.Namespace, exc: sqlite3.DatabaseError) -> Path | None:
    """The database a command given a site config (`-c`: run, export, user, ...) found damaged
    (SQLite's "database disk image is malformed" on a failing SD card, anywhere from Gateway's
    first reads on); None for any other error, or a command without one."""
    from gateway.store.database import DB_NAME, is_damaged

    data_dir = _data_dir(args) if is_damaged(exc) else None
    return None if data_dir is None else data_dir / DB_NAME


def _data_dir(args: argparse.Namespace) -> Path | None:
    """The data directory of a command given a site config (`-c`); None without one, or one that
    does not load."""
    path = getattr(args, "config", None)
    if path is None:
        return None
    try:
        return load_config(path, warn=False).site.data_dir  # the command's own load warned
    except ConfigError:
        return None


def _passes(cause: BaseException | None, data_dir: Path | None) -> bool:
    """Another process's write lock, a full disk (of `data_dir`, as the fix words it): they pass
    (README, Exit status), exit 1, so that systemd starts the service again once the import held
    with Ctrl-Z is over or space is freed (78 it never restarts: for what only the installer fixes)."""
    from gateway.store.database import passes

    for _ in range(4):  # the SQLite error, behind the error that tells it (an import's Stopped names it)
        if cause is None or passes(cause, data_dir):
            return cause is not None
        cause = getattr(cause, "cause", None) or cause.__cause__
    return False


def _database_failed(exc: sqlite3.OperationalError, data_dir: Path | None) -> int:
    """Said in one line with the fix by the cause; a fault of the gateway's own (an SQLite error of
    a bug: a query on a table that is not there) with its traceback too, which the fix asks for."""
    from gateway.store.database import storage_cause

    cause = storage_cause(exc, data_dir)
    if cause == "fault":
        log.error("a fault of the gateway, not of its storage", exc_info=exc)
    fix = _fix(exc, cause, data_dir)
    print(f"error: the site's database: {exc}; nothing was changed (fix: {fix})", file=sys.stderr)
    return 1 if _passes(exc, data_dir) else EX_CONFIG


def _fix(exc: sqlite3.OperationalError, cause: StorageCause, data_dir: Path | None) -> str:
    """By the cause, as the service's journal words it (database.storage_fix): only a full disk is
    told to free space; a card gone read-only or failing has room (SQLite says "disk I/O error" or
    "attempt to write a readonly database" on one, as on a file a command run with sudo left)."""
    from gateway.store.database import storage_fix

    if cause == "locked":
        return (
            "another process holds the database (an import, or a long write, perhaps suspended "
            "with Ctrl-Z): run the command again once it is over (systemd starts the service again itself)"
        )
    where = data_dir or Path("DATA_DIR")  # a command without a site config: the config's site.data_dir
    return f"{storage_fix(cause, where)}; then run it again"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway", description="Estate gate and parking gateway.")
    p.add_argument("--log-level", default="INFO", choices=LOG_LEVELS, type=str.upper)
    sub = p.add_subparsers(metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    sp = command("run", cmd_run, "run the gateway for a site (the systemd service runs this)")
    sp.add_argument("-c", "--config", required=True, type=Path, help="site config file (TOML)")

    sp = command("demo", cmd_demo, "run the demo site: simulated readers, cameras and barriers")
    sp.add_argument(
        "--data-dir",
        type=Path,
        help="where the demo keeps its database and config (default: data/demo in a source checkout, "
        "else ~/.local/share/estate-gateway/demo)",
    )
    sp.add_argument("--port", type=int, help="HTTP port (default 8080)")
    sp.add_argument("--stop-after", type=float, help="stop after this many seconds")

    sp = command("check-config", cmd_check_config, "validate site config files without starting anything")
    sp.add_argument("files", nargs="+", type=Path)

    sp = command("import", cmd_import, "import residents, vehicles, cards, slots from CSV (all or nothing)")
    sp.add_argument("-c", "--config", required=True, type=Path)
    sp.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="CSV files; their header says their kind (none: only finish an import an earlier run "
        "left unfinished)",
    )
    add_encoding_argument(sp)

    from gateway.parking.inside_cli import add_arguments as add_inside_command

    add_inside_command(sub)

    sp = command("export", cmd_export, "export residents, vehicles, cards, slots as CSV files")
    sp.add_argument("-c", "--config", required=True, type=Path)
    sp.add_argument("out_dir", type=Path)

    sp = command(
        "export-plates",
        cmd_export_plates,
        "the site's own plate crops, labelled by the registered plate they matched or a guard's "
        "correction, for training",
    )
    sp.add_argument("-c", "--config", required=True, type=Path)
    sp.add_argument("out_dir", type=Path, help="a new (or empty) folder")
    sp.add_argument("--since", help="from this date (YYYY-MM-DD, the site's time; default: all kept)")

    sp = command(
        "backup",
        cmd_backup,
        "copy what a new box needs back (gateway.db, while the service runs; the keys; the site config "
        "and the files it names) into a new folder",
    )
    sp.add_argument("-c", "--config", required=True, type=Path)
    sp.add_argument("out_dir", type=Path, help="a new (or empty) folder")
    sp.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say what was backed up (else nothing: cron mails only a failure)",
    )

    sp = command(
        "central-sink",
        cmd_central_sink,
        "reference consumer for the central side: every gateway's events into SQLite",
    )
    sp.add_argument("--host", default="localhost", help="broker host")
    sp.add_argument("--port", type=int, default=1883, help="broker port (8883 with TLS)")
    sp.add_argument("--prefix", default="estate", help="topic prefix of the gateways")
    sp.add_argument("--db", type=Path, required=True, help="SQLite file to write events into")
    sp.add_argument("--client-id", default=f"central-sink-{socket.gethostname()}"[:64])
    sp.add_argument("--group", help="shared-subscription group: sinks in one group share the load")
    sp.add_argument("--username")
    sp.add_argument("--password-file", type=Path, help="file holding the broker password")
    sp.add_argument("--ca-file", type=Path, help="CA certificate: turns TLS on")
    sp.add_argument("--cert-file", type=Path)
    sp.add_argument("--key-file", type=Path)
    sp.add_argument("--stop-after", type=float, help="stop after this many seconds")

    from gateway.accounts.cli import add_arguments as add_account_commands
    from gateway.sync.outbox_cli import add_arguments as add_outbox_command

    add_account_commands(sub)
    add_outbox_command(sub)

    sp = sub.add_parser("bench", help="measure the gateway (prints figures; --json for one JSON line)")
    benches = sp.add_subparsers(metavar="BENCH", required=True)
    from gateway.bench import BENCHES

    for name, (summary, add_arguments, run) in BENCHES.items():
        bp = benches.add_parser(name, help=summary, description=summary)
        bp.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        add_arguments(bp)
        bp.set_defaults(func=run)
    _log_level_after_the_command(p)
    return p


def _log_level_after_the_command(parser: argparse.ArgumentParser) -> None:
    """--log-level taken after the command too (`gateway run -c site.toml --log-level DEBUG`, as one
    adds it to the unit's ExecStart): refused there, argparse's exit 2 had systemd start the service
    again every 2 s for ever. Left unset when not given, so the one given before the command stands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.add_argument("--log-level", default=argparse.SUPPRESS, choices=LOG_LEVELS, type=str.upper)
                _log_level_after_the_command(sub)


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    cfg = load_config(args.config)
    from gateway.demo.run import run_site

    run_site(cfg, started)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from gateway.demo.run import default_data_dir, own_config, refuse_another_site, run_demo

    if args.port is not None and not 1 <= args.port <= MAX_PORT:  # model_copy below checks nothing
        raise GatewayError(
            f"--port {args.port}: a port is 1 to {MAX_PORT}",
            fix="give a free port such as 8080 (1024 or more needs no privileges), or leave --port out",
        )
    data_dir = args.data_dir or default_data_dir()
    refuse_another_site(data_dir)
    cfg = load_config(own_config(data_dir))
    if args.port is not None:
        cfg = cfg.model_copy(update={"http": cfg.http.model_copy(update={"port": args.port})})
    run_demo(cfg, started, args.stop_after)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            print(exc.render(), file=sys.stderr)
            status = EX_CONFIG
            continue
        refused = filecheck.refusals(cfg)  # what the start would stop for (exit 78) as well
        refused += _plate_models(cfg)  # the start goes on without those cameras: refused here all the same
        for refusal in refused:
            print(f"{path}: {refusal}", file=sys.stderr)
        if refused:
            status = EX_CONFIG
        else:
            print(f"{path}: ok ({_summary(cfg)})")
        for warning in filecheck.warnings(cfg, path):
            print(f"  warning: {warning}")
        if not refused:
            from gateway.runtime.store_check import store_warnings  # the start's, of its data_dir's store

            for warning in store_warnings(cfg, path):
                print(f"  warning: {warning}")
    return status


def _plate_models(cfg: SiteConfig) -> list[str]:
    """The plate cameras whose model does not load (lost to fsck, a package half installed), loaded
    as the start loads it: the start marks them offline and runs without them (devices.py), which
    the installer should know before, not from the alarm."""
    from gateway.config.devices import CameraDevice
    from gateway.runtime.devices import MODEL_FIX, plate_model_problem

    vehicle = {lane.id for lane in cfg.lanes if lane.type == "vehicle"}
    by_backend: dict[str, list[str]] = {}
    for device in cfg.devices:
        if isinstance(device, CameraDevice) and device.plates and device.lane in vehicle:
            by_backend.setdefault(device.plate_backend, []).append(device.id)
    said = []
    for backend, cameras in by_backend.items():
        problem = plate_model_problem(backend)
        if problem is not None:
            said.append(
                f"camera {', '.join(cameras)} cannot read plates: {problem}; the gateway starts with "
                f"it offline (cards, typed plates and relays work) (fix: {MODEL_FIX})"
            )
    return said


def _summary(cfg: SiteConfig) -> str:
    return (
        f"site {cfg.site.id}, {len(cfg.gates)} gates, {len(cfg.lanes)} lanes, "
        f"{len(cfg.devices)} devices, {len(cfg.zones)} zones"
    )


def add_encoding_argument(sp: argparse.ArgumentParser) -> None:
    """`--encoding` of `import` and `import-inside` (gateway/store/csv_file.py)."""
    sp.add_argument(
        "--encoding",
        choices=("utf-8", "gbk"),
        help="the CSV files' text, where the command cannot tell it: it refuses such a file naming "
        "this option (default: UTF-8 for a file with a byte-order mark, else UTF-8 or GBK as told "
        "from the text; gbk reads GB18030 too)",
    )


def cmd_import(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    from gateway.accounts.cli import cli_actor
    from gateway.store.admin import import_csv

    started = time.perf_counter()
    counts = import_csv(cfg, args.files, cli_actor(), encoding=args.encoding)
    took = time.perf_counter() - started
    if args.files:
        print(f"imported {_counts(counts)} in {took:.1f} s")
    else:
        print("no files given: nothing more to import")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    from gateway.accounts.cli import cli_actor
    from gateway.store.admin import export_csv

    counts = export_csv(cfg, args.out_dir, cli_actor())
    print(f"exported {_counts(counts)} to {args.out_dir}")
    return 0


def cmd_export_plates(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    from zoneinfo import ZoneInfo

    from gateway.accounts.cli import cli_actor
    from gateway.store.admin import export_plates
    from gateway.timefmt import parse_local

    try:
        since = parse_local(args.since, ZoneInfo(cfg.site.timezone)) if args.since else None
    except ValueError as exc:
        raise GatewayError(f"--since: {exc}", fix="give a date such as 2026-11-01") from exc
    done = export_plates(cfg, args.out_dir, since, cli_actor())
    print(
        f"exported {done.exported} plate crops ({done.corrected} misread, {done.by_guard} labelled by a "
        f"guard's correction) to {args.out_dir}"
    )
    if done.missing:
        print(f"{done.missing} labelled events had no crop left (pruned with their snapshots, or older)")
    if done.exported:
        out = args.out_dir
        print(f"measure the model on them with `plates eval {out}`; train with `plates train --real {out}`")
    elif not done.missing and done.older_kept:
        # Not the cameras' settings: older events have crops, this date is later than they are.
        print(
            f"no matched or corrected plate event since {args.since} has a crop: give an earlier "
            "--since, or leave it out to export every crop kept"
        )
    elif not done.missing:
        print(
            "no matched or corrected plate event has a snapshot: crops are kept for plates the gateway "
            "reads from a camera with snapshots = true (simulated cameras have no frames)"
        )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    from gateway.accounts.cli import cli_actor
    from gateway.store.backup import take_backup

    names = take_backup(cfg, args.config, args.out_dir, cli_actor())
    if args.verbose:  # cron mails whatever a job prints: a night that worked says nothing
        print(f"backed up {', '.join(names)} to {args.out_dir}; copy it off the box (README, Install)")
    return 0


def cmd_central_sink(args: argparse.Namespace) -> int:
    from gateway.sync.sink import run_sink

    return run_sink(args)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


if __name__ == "__main__":
    sys.exit(main())
