"""`gateway outbox`: what waits to go upstream, what was set aside, and sending set-aside records again
(gateway/store/set_aside.py); a running gateway sends them within seconds."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from gateway.config import load_config
from gateway.errors import GatewayError
from gateway.store.database import DB_NAME, open_database
from gateway.store.outbox import backlog
from gateway.store.set_aside import send_again, set_aside
from gateway.timefmt import from_db


def add_arguments(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    summary = "records waiting to go upstream and those set aside; send set-aside ones again"
    sp = sub.add_parser("outbox", help=summary, description=summary)
    sp.add_argument("-c", "--config", required=True, help="site config file (TOML)")
    sp.add_argument(
        "--send-again",
        nargs="+",
        metavar="SEQ",
        help="put these set-aside records (their seq, or `all`) back in line, once the cause is fixed",
    )
    sp.set_defaults(func=cmd_outbox)


def cmd_outbox(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    tz = ZoneInfo(cfg.site.timezone)
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        if args.send_again:
            return _send_again(db.conn, args.send_again, datetime.now(tz), args.config)
        # The store keeps UTC; printed in the site's time, as /api/outbox and the alarms page give it.
        waiting = backlog(db.conn)
        oldest = _local(waiting["oldest_pending_at"], tz)
        print(f"waiting to go upstream: {waiting['pending']} (oldest {oldest})")
        rows = set_aside(db.conn)
        print(f"set aside (quarantined): {len(rows)}")
        for row in rows:
            at = _local(row.set_aside_at, tz)
            print(f"  seq {row.seq}  {row.record_type}  {row.event_id}  {at}  {row.reason}")
        if rows:
            print(f"after fixing the cause: gateway outbox -c {args.config} --send-again all (or the seqs)")
        return 0
    finally:
        db.conn.close()


def _local(text: str | None, tz: tzinfo) -> str:
    """A stored UTC time as /api/outbox gives it (gateway/api/deps.py, local); '-' for none (a row
    set aside before the time was kept)."""
    at = from_db(text)
    return at.astimezone(tz).isoformat(timespec="seconds") if at else "-"


def _send_again(conn: sqlite3.Connection, wanted: list[str], at: datetime, config: str) -> int:
    from gateway.accounts.cli import cli_actor

    see_seqs = f"run `gateway outbox -c {config}` to see the set-aside records and their seqs"

    if wanted == ["all"]:
        seqs = None
    else:
        try:
            seqs = [int(s) for s in wanted]
        except ValueError:
            raise GatewayError(
                f"--send-again takes seqs or `all`, not {' '.join(wanted)!r}",
                fix=see_seqs,
            ) from None
    done = send_again(conn, seqs, at, cli_actor())
    missing = sorted(set(seqs or []) - set(done))
    if done:
        print(f"put back in line: {len(done)} record(s), seq {', '.join(map(str, done))}")
    if missing:
        raise GatewayError(
            f"not set aside: seq {', '.join(map(str, missing))}",
            fix=see_seqs,
        )
    if not done:
        print("nothing was set aside")
    return 0
