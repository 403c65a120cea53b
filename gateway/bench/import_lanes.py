"""`gateway bench import`: how long a lane's write waits while `gateway import` runs.

N residents with N cards are imported into a fresh site while a lane writes every 50 ms, one short
transaction each (what the decision worker does for each card). A single transaction for the whole
import held the lanes for seconds; the stepped import keeps a lane's longest wait to tens of ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.bench.common import count, report, write_bench_config
from gateway.config import SiteConfig, load_config
from gateway.store.admin import import_csv
from gateway.store.database import DB_NAME, begin_immediate, open_database


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=count, default=100_000, help="residents, each with a card")


@dataclass(frozen=True, slots=True)
class LaneWait:
    counts: dict[str, int]
    import_s: float
    max_wait_s: float


def lane_wait_during_import(cfg: SiteConfig, folder: Path, n: int) -> LaneWait:
    """Import n residents with n cards into cfg's (new) site while a lane writes every 50 ms."""
    people, cards = folder / "r.csv", folder / "c.csv"
    people.write_text(
        "ref,building,unit,name,phone\n"
        + "".join(f"R{i},{i % 50}栋,{i % 6}单元,张{i},138{i:08d}\n" for i in range(n)),
        encoding="utf-8",
    )
    cards.write_text("card,resident_ref\n" + "".join(f"{i:010d},R{i}\n" for i in range(n)), encoding="utf-8")
    db_path = cfg.site.data_dir / DB_NAME
    open_database(db_path).conn.close()
    # The lane writes from its own process, as the gateway does: a thread here would also wait for
    # this process's GIL while the import reads its files, which is not a wait for the database.
    spawn = multiprocessing.get_context("spawn")
    done, ready = spawn.Event(), spawn.Event()
    results, sender = spawn.Pipe(duplex=False)
    lane = spawn.Process(target=_lane, args=(db_path, done, ready, sender), name="bench-lane")
    lane.start()
    ready.wait(30)
    try:
        began = time.perf_counter()
        counts = import_csv(cfg, [people, cards])
        import_s = time.perf_counter() - began  # the import's own time, not the lane stopping after it
    finally:
        done.set()
        waits: list[float] = results.recv() if results.poll(30) else []
        lane.join(30)
    return LaneWait(counts, import_s, max(waits, default=0.0))


def _lane(db_path: Path, done: Any, ready: Any, results: Any) -> None:
    """Write every 50 ms, one short transaction each (what the decision worker does for each card),
    until `done`; send back how long each waited and took."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    waits: list[float] = []
    ready.set()
    while not done.is_set():
        began = time.perf_counter()
        begin_immediate(conn)  # as the decision worker asks for the lock
        conn.execute(
            "INSERT INTO presence (subject, inside, lane, at) VALUES ('x', 1, 'door', 'now') "
            "ON CONFLICT DO UPDATE SET at = 'now'"
        )
        conn.execute("COMMIT")
        waits.append(time.perf_counter() - began)
        time.sleep(0.05)
    conn.close()
    results.send(waits)


def bench_import(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    try:
        cfg = load_config(write_bench_config(work))
        result = lane_wait_during_import(cfg, work, args.rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        "rows": args.rows,
        "import_s": round(result.import_s, 2),
        "lane_wait_max_ms": round(result.max_wait_s * 1000, 1),
    }
    report(figures, args.json)
    return 0
