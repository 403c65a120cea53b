"""`gateway bench decide`: decisions with their durable commit, import, start-up and memory at scale."""

from __future__ import annotations

import argparse
import random
import threading
import time
from pathlib import Path

from gateway.bench.common import (
    at_least,
    count,
    fsync_p99_ms,
    in_work_dir,
    percentile,
    report,
    rounded,
    time_to_ready,
    work_folder,
    write_bench_config,
    zero_or_more,
)
from gateway.config import load_config
from gateway.core import Presented
from gateway.demo.seed import write_site_csvs
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--residents", type=count, default=100_000)
    p.add_argument(
        "--credentials",
        type=count,
        default=200_000,
        help="cards plus plates: more than the residents' cars (1.1 a resident), the rest are cards",
    )
    p.add_argument("--slots", type=zero_or_more, default=50_000)
    p.add_argument(
        "--decisions",
        type=at_least(4),
        default=20_000,
        help="the burst timed for throughput; a quarter as many cards, then plates, are timed one at a time",
    )
    p.add_argument("--work-dir", type=work_folder, help="keep the generated data here")
    p.add_argument(
        "--sync",
        choices=["full", "normal"],
        default="full",
        help="the site's storage.sync: full (power-cut safe) or normal (crash safe)",
    )


def bench_decide(args: argparse.Namespace) -> int:
    _cards_to_write(args)  # before the work folder: a bad count says so before anything is made
    return in_work_dir(args, "gateway-bench-", _run)


def _cards_to_write(args: argparse.Namespace) -> int:
    """The credentials left for cards once each resident's cars have theirs."""
    plates_expected = int(args.residents * 1.1)  # the generator gives one resident in ten two cars
    if args.credentials <= plates_expected:
        raise GatewayError(
            f"--credentials {args.credentials} leaves no card to time: the {args.residents} residents' "
            f"cars take about {plates_expected} of them",
            fix=f"give --credentials over {plates_expected}, or fewer --residents",
        )
    return args.credentials - plates_expected


def _run(args: argparse.Namespace, work: Path) -> int:
    config = write_bench_config(work, args.sync)
    cfg = load_config(config)
    cards_written = _cards_to_write(args)
    plates_expected = args.credentials - cards_written
    print(
        f"generating {args.residents} residents, ~{plates_expected} plates, {cards_written} cards, "
        f"{args.slots} slots in {work}"
    )
    paths = write_site_csvs(work / "csv", args.residents, cards_written, args.slots)
    started = time.perf_counter()
    counts = import_csv(cfg, list(paths.values()))
    import_s = time.perf_counter() - started
    print(f"imported {counts} in {import_s:.2f} s")

    gw = Gateway(cfg)
    cards = _sample(gw, "card")
    plates = _sample(gw, "plate")
    done = threading.Semaphore(0)
    gw.subscribe(lambda ev: done.release())
    gw.start()
    rng = random.Random(3)
    paced = args.decisions // 4
    # Latency: presentations arriving one at a time, as at a real gate (200 a second across lanes).
    card_ms = _paced(gw, done, [("door", "card", rng.choice(cards)) for _ in range(paced)])
    plate_ms = _paced(gw, done, _car_traffic(rng, plates, paced))
    # Throughput: a burst far above any gate's rate; decisions waiting together share a commit.
    burst = [
        ("door", "card", rng.choice(cards)) if i % 2 else ("car-in", "plate", rng.choice(plates))
        for i in range(args.decisions)
    ]
    began = time.perf_counter()
    for lane, kind, value in burst:
        gw.present(Presented(lane, kind, value, 1.0, gw.now(), "bench"))  # type: ignore[arg-type]
    for _ in burst:
        done.acquire()
    elapsed = time.perf_counter() - began
    gw.stop()

    ready_s, rss_kb = time_to_ready(config)
    figures = {
        "residents": args.residents,
        "credentials": counts["vehicles"] + counts["cards"],
        "slots": counts["slots"],
        "import_s": round(import_s, 2),
        "card_decision_p50_ms": rounded(percentile(card_ms, 50), 3),
        "card_decision_p99_ms": rounded(percentile(card_ms, 99), 3),
        "plate_decision_p99_ms": rounded(percentile(plate_ms, 99), 3),
        "decision_max_ms": rounded(max(card_ms + plate_ms, default=None), 3),
        "disk_fsync_p99_ms": rounded(fsync_p99_ms(work), 3),
        "decisions_per_s": round(args.decisions / elapsed),
        "startup_to_ready_s": round(ready_s, 2),
        "rss_mb": round(rss_kb / 1024, 1),
        "sync": cfg.storage.sync,
    }
    report(
        figures,
        args.json,
        [
            "a decision's time runs from the driver handing it over to its gate opening, and includes "
            f"the commit of its access-log, outbox and stay rows (synchronous={cfg.storage.sync})",
            "disk_fsync_p99_ms is this disk's own flush time: no durable commit can be faster",
        ],
    )
    return 0


def _sample(gw: Gateway, kind: str) -> list[str]:
    sql = "SELECT value FROM credentials WHERE kind = ? ORDER BY random() LIMIT 5000"
    return [r[0] for r in gw.conn.execute(sql, (kind,))]


def _car_traffic(rng: random.Random, plates: list[str], n: int) -> list[tuple[str, str, str]]:
    inside: list[str] = []
    out = []
    for _ in range(n):
        if inside and rng.random() < 0.45:
            out.append(("car-out", "plate", inside.pop(rng.randrange(len(inside)))))
        else:
            plate = rng.choice(plates)
            inside.append(plate)
            out.append(("car-in", "plate", plate))
    return out


def _paced(
    gw: Gateway, done: threading.Semaphore, items: list[tuple[str, str, str]], gap_s: float = 0.005
) -> list[float]:
    gw.latencies_ms.clear()
    for lane, kind, value in items:
        gw.present(Presented(lane, kind, value, 1.0, gw.now(), "bench"))  # type: ignore[arg-type]
        done.acquire()
        time.sleep(gap_s)
    return list(gw.latencies_ms)
