"""`gateway bench sync`: draining a backlog to a local Mosquitto, applying a large snapshot, and a
delta handing slots on while their cars are parked.

Needs the `mosquitto` binary (Debian package mosquitto); the bench runs its own on a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import queue
import random
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from gateway.bench.common import (
    at_least,
    count,
    free_port,
    percentile,
    report,
    rounded,
    work_folder,
    write_bench_config,
)
from gateway.config import load_config
from gateway.core import Presented
from gateway.demo.seed import random_plate
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_read_only
from gateway.store.outbox import enqueue
from gateway.sync.messages import MAX_DELTA_ENTRIES, encode_delta, encode_snapshot
from gateway.sync.service import SyncService
from gateway.timefmt import to_db


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", type=count, default=100_000, help="outbox backlog to drain")
    p.add_argument("--entries", type=count, default=100_000, help="entries in the snapshot")
    # The bounds of the [mqtt] keys they are written to (Mqtt.inflight, Mqtt.apply_step_rows).
    p.add_argument("--inflight", type=at_least(1, most=1000), default=100, help="QoS 1 messages in flight")
    p.add_argument(
        "--step-rows", type=at_least(10, most=100_000), default=400, help="rows per snapshot apply step"
    )
    p.add_argument("--work-dir", type=work_folder, help="keep the generated data here")


def bench_sync(args: argparse.Namespace) -> int:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(mosquitto).exists():
        raise GatewayError("mosquitto is not installed", fix="apt-get install mosquitto")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="gateway-bench-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    broker = _Broker(mosquitto, work / "broker")
    try:
        broker.start()
        return _run(args, work, broker.port)
    finally:
        broker.stop()
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path, port: int) -> int:
    config = write_bench_config(work)
    with open(config, "a", encoding="utf-8") as f:
        f.write(
            f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
            f"inflight = {args.inflight}\napply_step_rows = {args.step_rows}\n"
            "health_interval_s = 3600\n"
        )
    cfg = load_config(config)
    gw = Gateway(cfg)
    print(f"queueing {args.events} events in the outbox")
    _fill_outbox(gw, args.events)
    print("draining them to mosquitto at QoS 1")
    # A consumer as the centre has: a record the broker delivers to nobody (PUBACK 0x10) is kept
    # pending and tried again later, never marked sent.
    consumer = _consumer(port, [f"{cfg.mqtt.topic_prefix}/{cfg.site.id}/events/#", "bench/paho"])
    service = SyncService(gw)
    gw.start()
    service.start()
    try:
        drain_s = _drain(gw, service)
        baseline = _paho_baseline(port, args.events, args.inflight)
        consumer.disconnect()
        consumer.loop_stop()
        cards = _snapshot_entries(args.entries)
        card_values = [e["card"] for e in cards if e["kind"] == "card"]
        print(f"applying a {args.entries}-entry snapshot while cards are presented every 5 ms")
        snapshot = service.link.topics.snapshot
        first = encode_snapshot(1, cards, per_part=2000)
        first_s, first_ms = _apply(gw, service, port, 1, first, snapshot, card_values)
        steps = list(service.directory.step_ms)
        changed = _changed(cards, 0.1)
        print("applying it again with 10 % of the entries changed (a resync)")
        again = encode_snapshot(2, changed, per_part=2000)
        again_s, again_ms = _apply(gw, service, port, 2, again, snapshot, card_values)
        steps += service.directory.step_ms
        handed = _slots_handed_on(gw, changed)
        print(
            f"a delta handing {len(handed)} slots each to the next slot's car, every slot's car parked on it"
        )
        delta = [encode_delta(3, 2, handed)]
        delta_s, delta_ms = _apply(gw, service, port, 3, delta, service.link.topics.delta, card_values)
        print("the same card decisions with nothing being applied, for comparison")
        idle_ms = _idle(gw, card_values, len(first_ms))
    finally:
        service.stop()
        gw.stop()
    during = first_ms + again_ms
    figures = {
        "events": args.events,
        "drain_events_per_s": round(args.events / drain_s),
        "paho_qos1_msgs_per_s": round(baseline),
        "snapshot_entries": args.entries,
        "snapshot_apply_s": round(first_s, 2),
        "resync_apply_s": round(again_s, 2),
        "card_decisions_during_apply": len(during),
        "card_decision_p50_ms": rounded(percentile(during, 50), 2),
        "card_decision_p99_ms": rounded(percentile(during, 99), 2),
        "card_decision_max_ms": rounded(max(during, default=None), 2),
        "card_decision_idle_p99_ms": rounded(percentile(idle_ms, 99), 2),
        "apply_steps": len(steps),
        "apply_step_p50_ms": rounded(percentile(steps, 50), 2),
        "apply_step_max_ms": rounded(max(steps, default=None), 2),
        "slots_handed_on_parked": len(handed),
        "slots_handed_on_apply_s": round(delta_s, 2),
        "card_decision_during_slots_handed_on_max_ms": rounded(max(delta_ms, default=None), 2),
        "sync": cfg.storage.sync,
    }
    report(
        figures,
        args.json,
        [
            "drain: from the link connecting to the last outbox row marked sent (acknowledged "
            "by the "
            "broker and committed), with a backlog already queued",
            "paho_qos1_msgs_per_s: paho alone publishing as many QoS 1 messages, same window",
            "card decisions include their durable commit; card_decision_idle_p99_ms is the "
            "same pace "
            "with nothing applied (this disk's and machine's own floor)",
            "apply: from the first snapshot part published to the version applied (transfer, "
            "checks, "
            "staging in a child process, steps on the decision worker); the first apply is onto an "
            "empty directory, the second changes 10 % of the entries",
            "slots handed on: a delta (one transaction on the decision worker) giving each of up to "
            "5,000 slots, its car parked on it, to the next slot's car; a card presented meanwhile "
            "waits for it",
        ],
    )
    return 0


def _fill_outbox(gw: Gateway, n: int) -> None:
    at = gw.now()
    payload = {
        "at": at.isoformat(),
        "lane": "door",
        "device": "bench",
        "credential": {"kind": "card", "value": "00000000", "confidence": 1.0},
        "admitted": True,
        "reason": "resident",
        "billing": None,
        "flags": [],
    }
    conn = gw.conn
    for start in range(0, n, 10_000):
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(start, min(n, start + 10_000)):
            enqueue(conn, "access", payload, at)
        conn.execute("COMMIT")


def _pending(gw: Gateway) -> int:
    with open_read_only(gw.db_path) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL "
                "AND quarantined IS NULL AND topic = 'access'"
            ).fetchone()[0]
        )


def _drain(gw: Gateway, service: SyncService) -> float:
    while service.link.state != "connected":
        time.sleep(0.001)
    began = time.perf_counter()
    while _pending(gw) > 0:
        time.sleep(0.02)
    return time.perf_counter() - began


def _consumer(port: int, topics: list[str]) -> paho.Client:
    """A client subscribed to `topics` (QoS 1), once the broker has confirmed it."""
    subscribed = threading.Event()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-central", protocol=paho.MQTTv5)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])
    client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not subscribed.wait(10):
        raise GatewayError("the bench's consumer could not subscribe", fix="look at the broker's log")
    return client


def _paho_baseline(port: int, n: int, window: int) -> float:
    acks: queue.Queue[int] = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-paho", protocol=paho.MQTTv5)
    client.on_publish = lambda c, u, mid, rc, p: acks.put(mid)
    client.max_inflight_messages_set(window)
    client.connect("127.0.0.1", port)
    client.loop_start()
    body = b'{"v":1,"type":"access","event_id":"0190a0b0-1234-7abc-8def-0123456789ab","lane":"door"}'
    began = time.perf_counter()
    sent = done = 0
    while done < n:
        while sent - done < window and sent < n:
            client.publish("bench/paho", body, qos=1)
            sent += 1
        acks.get()
        done += 1
    took = time.perf_counter() - began
    client.disconnect()
    client.loop_stop()
    return n / took


def _snapshot_entries(n: int) -> list[dict[str, Any]]:
    """Residents, their cars and cards, and slots: 30 % / 33 % / 30 % / 7 % of n entries."""
    rng = random.Random(5)
    residents = max(1, n * 30 // 100)
    entries: list[dict[str, Any]] = []
    plates: list[str] = []
    used: set[str] = set()
    for i in range(residents):
        entries.append(
            {
                "kind": "resident",
                "ref": f"R{i:06d}",
                "building": f"{i // 120 + 1}栋",
                "unit": f"{i % 4 + 1}单元",
                "room": f"{i % 30 + 101}",
                "name": "王芳",
            }
        )
    while len(plates) < n * 33 // 100:
        plate = random_plate(rng)
        if plate not in used:
            used.add(plate)
            plates.append(plate)
            entries.append({"kind": "vehicle", "plate": plate, "resident": f"R{len(plates) % residents:06d}"})
    for i in range(n * 30 // 100):
        entries.append({"kind": "card", "card": f"{i:010d}", "resident": f"R{i % residents:06d}"})
    for i in range(n - len(entries)):
        entries.append(
            {
                "kind": "slot",
                "zone": "main",
                "number": f"A-{i:05d}",
                "resident": f"R{i % residents:06d}",
                "plates": [plates[i % len(plates)]],
            }
        )
    return entries


def _changed(entries: list[dict[str, Any]], share: float) -> list[dict[str, Any]]:
    rng = random.Random(9)
    out = []
    for e in entries:
        if e["kind"] == "resident" and rng.random() < share * 3:
            e = {**e, "room": "999"}
        elif e["kind"] == "card" and rng.random() < share * 3:
            e = {**e, "blocked": True}
        out.append(e)
    return out


def _slots_handed_on(gw: Gateway, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evening: the car of each of the first slots (as many as a delta may change) parked on it; and
    a delta's upserts giving each of those slots to the next slot's household and car (the year's
    slot leases renewed), so that every car parked is moved off and handed its new slot."""
    slots = [e for e in entries if e["kind"] == "slot"][: MAX_DELTA_ENTRIES + 1]
    numbers = json.dumps([s["number"] for s in slots[:-1]])

    def park(conn: sqlite3.Connection) -> None:
        with conn:
            conn.execute(
                "INSERT INTO stays (subject, plate, vehicle_id, class, zone, slot_id, billing, entered_at) "
                "SELECT 'resident:' || v.resident_id, v.plate, v.id, 'car', sl.zone, sl.id, 'slot', ? "
                "FROM slots sl JOIN slot_vehicles sv ON sv.slot_id = sl.id "
                "JOIN vehicles v ON v.id = sv.vehicle_id WHERE sl.number IN (SELECT value FROM json_each(?))",
                (to_db(gw.now()), numbers),
            )

    gw.on_worker(park).result(60)
    return [
        {**s, "resident": n["resident"], "plates": n["plates"]}
        for s, n in zip(slots[:-1], slots[1:], strict=True)
    ]


def _paced_cards(
    gw: Gateway,
    cards: list[str],
    stop: threading.Event,
    seed: int,
    latencies: list[float],
    limit: int | None = None,
) -> None:
    """Cards presented one at a time, 5 ms apart, as at a busy pedestrian gate."""
    done = threading.Semaphore(0)
    gw.subscribe(lambda ev: done.release())
    rng = random.Random(seed)
    while not stop.is_set() and (limit is None or len(latencies) < limit):
        gw.latencies_ms.clear()
        gw.present(Presented("door", "card", rng.choice(cards), 1.0, gw.now(), "bench"))
        if done.acquire(timeout=5):
            latencies.extend(gw.latencies_ms)
        time.sleep(0.005)


def _idle(gw: Gateway, cards: list[str], n: int) -> list[float]:
    latencies: list[float] = []
    _paced_cards(gw, cards, threading.Event(), 99, latencies, limit=max(n, 200))
    return latencies


def _apply(
    gw: Gateway,
    service: SyncService,
    port: int,
    version: int,
    bodies: list[bytes],
    topic: str,
    cards: list[str],
) -> tuple[float, list[float]]:
    """`bodies` (a snapshot's parts, or a delta) published to `topic` as the centre does, while a
    card is presented every 5 ms: the time until `version` is applied, and each card decision's."""
    central = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-central", protocol=paho.MQTTv5)
    central.connect("127.0.0.1", port)
    central.loop_start()
    latencies: list[float] = []
    stop = threading.Event()
    presenter = threading.Thread(target=_paced_cards, args=(gw, cards, stop, version, latencies), daemon=True)
    began = time.perf_counter()
    presenter.start()
    for body in bodies:
        central.publish(topic, body, qos=1)
    while service.directory.versions.applied < version:
        time.sleep(0.01)
    took = time.perf_counter() - began
    stop.set()
    presenter.join()
    central.disconnect()
    central.loop_stop()
    return took, latencies


class _Broker:
    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\npersistence false\n"
            "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
        )
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                    return
            except OSError:
                time.sleep(0.01)
        raise GatewayError("mosquitto did not start", fix="run mosquitto -v by hand to see why")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
