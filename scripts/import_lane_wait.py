"""How long a lane's write waits while `gateway import` runs: N residents with N cards, imported into a
fresh site while a lane writes every 50 ms (what the decision worker does for each card).

    .venv/bin/python scripts/import_lane_wait.py 100000
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.config import parse_config  # noqa: E402
from gateway.store.admin import import_csv  # noqa: E402
from gateway.store.database import open_database  # noqa: E402
from tests.conftest import site_toml  # noqa: E402


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    cfg = parse_config(site_toml(tmp / "data"), "site.toml")
    people, cards = tmp / "r.csv", tmp / "c.csv"
    people.write_text(
        "ref,building,unit,name,phone\n"
        + "".join(f"R{i},{i % 50}栋,{i % 6}单元,张{i},138{i:08d}\n" for i in range(n)),
        encoding="utf-8",
    )
    cards.write_text("card,resident_ref\n" + "".join(f"{i:010X},R{i}\n" for i in range(n)), encoding="utf-8")
    open_database(cfg.site.data_dir / "gateway.db").conn.close()
    waits: list[float] = []
    done = threading.Event()

    def lane() -> None:
        conn = sqlite3.connect(cfg.site.data_dir / "gateway.db", isolation_level=None, timeout=30)
        while not done.is_set():
            began = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO presence VALUES ('x', 1, 'door', 'now') ON CONFLICT DO UPDATE SET at = 'now'"
            )
            conn.execute("COMMIT")
            waits.append(time.perf_counter() - began)
            time.sleep(0.05)
        conn.close()

    th = threading.Thread(target=lane)
    th.start()
    began = time.perf_counter()
    try:
        import_csv(cfg, [people, cards])
    finally:
        done.set()
        th.join()
    print(f"import {n}: {time.perf_counter() - began:.2f}s; lane write max wait {max(waits):.2f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40_000)
