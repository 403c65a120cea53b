"""A snapshot whose staging child process is killed is not refused (review 60k).

A snapshot of more than 2,000 entries is staged by a child process. `systemctl stop`/`restart`
signals every process of the service (KillMode=control-group), the child with it, and the OOM
killer of a small box picks it alone. The gateway took the child's death for a refusal: it told the
centre `invalid`, dropped the parts and never asked again, so a household the centre moved out in
that snapshot was still let in after the restart. A killed child says nothing of the data: its parts
are kept and staged again (at the next start); a child killed every time is given up after three
tries with `not_staged`, and the snapshot asked for again after resync_interval_s.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening

from gateway.bench.sync import _snapshot_entries
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging_run import child_fault

ENTRIES = 6000  # over the 2,000 staged on the directory's thread: a child process stages it


def _staging_children() -> list[int]:
    me = os.getpid()
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and b"gateway.sync.staging" in cmd:
            found.append(int(d.name))
    return found


@contextmanager
def killing(sig: int) -> Iterator[list[int]]:
    """Every staging child that starts meanwhile is sent `sig` (the OOM killer, every time)."""
    killed: list[int] = []
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            for pid in _staging_children():
                if pid not in killed:
                    os.kill(pid, sig)
                    killed.append(pid)
            time.sleep(0.005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        done.set()
        thread.join(5)


def _two_versions() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    entries = _snapshot_entries(ENTRIES)
    moved_out = next(e for e in entries if e["kind"] == "card")["card"]
    return entries, [e for e in entries if e.get("card") != moved_out], moved_out


def _door(gw: Gateway, card: str) -> str:
    p = Presented("door", "card", card, 1.0, gw.now(), "test")
    return str(gw.on_worker(lambda c: gw.handle(p)).result(10).reason)


def _send(central: Central, version: int, entries: list[dict[str, Any]]) -> None:
    for part in encode_snapshot(version, entries, 2000):
        central.publish("sync/snapshot", part)


def test_a_snapshot_whose_staging_child_a_stop_kills_is_applied_at_the_next_start(
    broker: Mosquitto, sync_cfg: Callable[..., Any]
) -> None:
    cfg = sync_cfg(broker.port)
    sub = Subscriber(broker, [f"estate/{SITE}/sync/#"], client_id="centre-watch")
    central = Central(broker, SITE)
    entries, entries2, moved_out = _two_versions()
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            _send(central, 1, entries)
            wait_for("snapshot 1", lambda: service.directory.versions.applied == 1, timeout=120)
            assert _door(gw, moved_out) == "resident"
            with killing(signal.SIGTERM) as killed:  # systemctl restart: the whole cgroup
                _send(central, 2, entries2)
                wait_for("the staging child killed", lambda: killed, timeout=60, every=0.005)
                time.sleep(0.5)
        with running(cfg) as (gw, service):
            wait_for("snapshot 2 from its kept parts", lambda: service.directory.versions.applied == 2, 60)
            reason = _door(gw, moved_out)
        errors = sub.payloads("/sync/error")
    finally:
        central.close()
        sub.close()
    assert reason != "resident"
    assert errors == [], "the centre was told a snapshot it sent was refused"


def test_a_snapshot_whose_staging_child_is_killed_every_time_is_given_up_and_asked_for_later(
    broker: Mosquitto, sync_cfg: Callable[..., Any]
) -> None:
    cfg = sync_cfg(broker.port, resync_interval_s=4)
    sub = Subscriber(broker, [f"estate/{SITE}/sync/#"], client_id="centre-watch")
    central = Central(broker, SITE)
    entries, entries2, moved_out = _two_versions()
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            _send(central, 1, entries)
            wait_for("snapshot 1", lambda: service.directory.versions.applied == 1, timeout=120)
            asked_before = len(sub.payloads("/sync/request"))
            with killing(signal.SIGKILL) as killed:  # the OOM killer, at every try
                _send(central, 2, entries2)
                errors = wait_for("the sync error", lambda: sub.payloads("/sync/error"), timeout=60)
                tries = len(killed)
                need = service.directory.versions.need_snapshot
                asked_at_once = len(sub.payloads("/sync/request")) - asked_before
            # Memory freed: the snapshot asked for again after resync_interval_s goes in.
            request = wait_for(
                "the snapshot asked for again",
                lambda: [r for r in sub.payloads("/sync/request") if r.get("have_version") == 1],
                timeout=30,
            )
            _send(central, 2, entries2)
            wait_for("snapshot 2", lambda: service.directory.versions.applied == 2, timeout=60)
            reason = _door(gw, moved_out)
    finally:
        central.close()
        sub.close()
    assert tries == 3
    assert [(e["kind"], e["version"], e["code"]) for e in errors] == [("snapshot", 2, "not_staged")]
    assert "SIGKILL" in errors[0]["problems"][0] and "memory" in errors[0]["problems"][0]
    assert need and asked_at_once == 0, "a box short of memory is not sent the snapshot again at once"
    assert request[0]["reason"] == "still waiting for a snapshot"
    assert reason != "resident"


def test_the_log_says_why_the_staging_child_ended_and_what_to_do() -> None:
    stopped = child_fault(-signal.SIGTERM, "")
    assert "stopped (SIGTERM)" in str(stopped) and "being stopped" in stopped.fix
    killed = child_fault(-signal.SIGKILL, "")
    assert "killed (SIGKILL)" in str(killed) and "memory" in killed.fix
    short = child_fault(1, "Traceback (most recent call last):\n  ...\nMemoryError\n")
    assert "out of memory" in str(short) and "swap" in short.fix
    failed = child_fault(1, "sqlite3.OperationalError: database or disk is full\n")
    assert "database or disk is full" in str(failed) and "disk space" in failed.fix
