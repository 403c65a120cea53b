"""The directory from the central server: snapshots and deltas in order, out of order, with a gap,
with a corrupt one in the middle; all of each or none of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening

from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.sync.messages import encode_delta, encode_snapshot
from gateway.sync.service import SyncService

TZ = ZoneInfo("Asia/Shanghai")


def resident(ref: str, **more: Any) -> dict[str, Any]:
    return {
        "kind": "resident",
        "ref": ref,
        "building": "1",
        "unit": "2",
        "name": f"住户{ref}",
        **more,
    }


def card(number: str, ref: str, **more: Any) -> dict[str, Any]:
    return {"kind": "card", "card": number, "resident": ref, **more}


def vehicle(plate: str, ref: str, **more: Any) -> dict[str, Any]:
    return {"kind": "vehicle", "plate": plate, "resident": ref, **more}


def visitor(ref: str, *credentials: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": "pass",
        "ref": ref,
        "pass_kind": "visitor",
        "name": "李四",
        "valid_from": "2020-01-01",
        "valid_to": "2099-01-01",
        "credentials": [{"kind": kind, "value": value} for kind, value in credentials],
    }


def directory_v1() -> list[dict[str, Any]]:
    return [
        resident("R1", phone="13812345678"),
        resident("R2"),
        resident("R3"),
        vehicle("粤B12345", "R1"),
        vehicle("粤BD12345", "R2", **{"class": "car"}),
        card("C0001", "R1"),
        card("C0002", "R2", plate="粤BD12345"),
        card("C0003", "R3"),
        {
            "kind": "slot",
            "zone": "main",
            "number": "A-001",
            "resident": "R1",
            "plates": ["粤B12345"],
        },
        {
            "kind": "pass",
            "ref": "P1",
            "pass_kind": "visitor",
            "name": "李四",
            "phone": "13900000000",
            "id_number": "110101199001011234",
            "valid_from": "2020-01-01",
            "valid_to": "2099-01-01",
            "credentials": [{"kind": "qr", "value": "QR-P1-ABCDEF"}],
        },
    ]


@dataclass
class Site:
    gw: Gateway
    service: SyncService
    central: Central
    sub: Subscriber

    def applied(self) -> int:
        return int(self.gw.conn.execute("SELECT applied_version FROM sync_state").fetchone()[0])

    def wait_applied(self, version: int) -> None:
        wait_for(
            f"version {version} applied",
            lambda: self.service.directory.versions.applied == version and self.applied() == version,
        )

    def snapshot(self, version: int, entries: list[dict[str, Any]], per_part: int = 4) -> None:
        for part in encode_snapshot(version, entries, per_part):
            self.central.publish("sync/snapshot", part)

    def delta(
        self,
        version: int,
        base: int,
        upsert: list[Any] | None = None,
        delete: list[Any] | None = None,
    ) -> None:
        self.central.publish("sync/delta", encode_delta(version, base, upsert, delete))

    def card_reason(self, number: str) -> str:
        p = Presented("door", "card", number, 1.0, datetime.now(TZ), "test")
        return self.gw.on_worker(lambda conn: self.gw.handle(p)).result(timeout=10).reason

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.gw.db_path) as conn:
            return conn.execute(sql).fetchall()

    def upstream(self, suffix: str) -> list[dict[str, Any]]:
        return self.sub.payloads(suffix)

    def asked(self) -> list[dict[str, Any]]:
        """The snapshot requests sent upstream, but the one a new gateway sends as it starts with
        an empty register (docs/mqtt.md, The rules)."""
        return [
            r for r in self.upstream("/sync/request") if not r["reason"].startswith("the register is empty")
        ]

    def applied_events(self, count: int) -> list[tuple[str, int]]:
        """The first `count` sync_applied records as they arrive upstream (through the outbox)."""
        got = wait_for(
            f"{count} sync_applied records",
            lambda: (
                len(self.upstream("/events/sync_applied")) >= count and self.upstream("/events/sync_applied")
            ),
        )
        return [(e["kind"], e["version"]) for e in got]


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


@contextmanager
def _site(broker: Mosquitto, cfg: SiteConfig) -> Iterator[Site]:
    sub = Subscriber(
        broker,
        [f"estate/{SITE}/sync/#", f"estate/{SITE}/events/#", f"estate/{SITE}/cmd/reply"],
        client_id="central-watch",
    )
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            yield Site(gw, service, central, sub)
    finally:
        central.close()
        sub.close()


def test_a_snapshot_then_deltas_in_order(site: Site) -> None:
    assert site.card_reason("C0001") == "unknown"
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    assert site.card_reason("C0001") == "resident"
    assert site.rows("SELECT phone_masked FROM residents WHERE ref = 'R1'") == [("138****5678",)]
    assert site.rows("SELECT id_masked, id_hash != '' FROM passes WHERE ref = 'P1'") == [
        ("**************1234", 1)
    ]
    site.delta(2, 1, upsert=[card("C0004", "R3")], delete=[{"kind": "card", "card": "C0001"}])
    site.delta(3, 2, upsert=[resident("R3", blocked=True)])
    site.wait_applied(3)
    assert site.card_reason("C0001") == "unknown"
    assert site.card_reason("C0004") == "blocked"
    state = wait_for(
        "the retained sync state",
        lambda: [s for s in site.upstream("/sync/state") if s["applied_version"] == 3],
    )
    assert state[-1]["need_snapshot"] is False
    assert site.applied_events(3) == [("snapshot", 1), ("delta", 2), ("delta", 3)]


def test_the_same_delta_twice_is_applied_once(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(2, 1, upsert=[card("C0009", "R1")])
    site.delta(2, 1, upsert=[card("C0009", "R1")])
    site.snapshot(1, directory_v1())  # an old snapshot again: ignored
    site.delta(3, 2)
    site.wait_applied(3)
    assert site.applied_events(3) == [("snapshot", 1), ("delta", 2), ("delta", 3)]


@pytest.fixture
def patient_site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    """A site whose gap wait outlasts any slowness of the test machine."""
    with _site(broker, sync_cfg(broker.port, gap_wait_s=600)) as s:
        yield s


def test_deltas_out_of_order_are_applied_in_version_order(patient_site: Site) -> None:
    site = patient_site
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(4, 3, upsert=[card("C0004", "R1")])
    site.delta(3, 2, delete=[{"kind": "card", "card": "C0004"}])  # would remove C0004 if last
    site.delta(2, 1, upsert=[card("C0004", "R2")])
    site.wait_applied(4)
    assert site.rows(
        "SELECT r.ref FROM credentials c JOIN residents r ON r.id = c.resident_id WHERE c.value = 'C0004'"
    ) == [("R1",)]
    assert [v for _, v in site.applied_events(4)] == [1, 2, 3, 4]
    assert site.asked() == []


def test_a_gap_asks_for_a_snapshot(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(3, 2, upsert=[card("C0007", "R1")])  # 2 never comes
    request = wait_for("a snapshot request", lambda: site.asked())[0]
    assert request["have_version"] == 1 and request["reason"].startswith("gap")
    assert site.applied() == 1
    site.snapshot(5, directory_v1() + [card("C0008", "R2")])
    site.wait_applied(5)
    assert site.card_reason("C0008") == "resident"
    assert site.card_reason("C0007") == "unknown"  # the held delta 3 was older than the snapshot


def test_a_corrupt_delta_in_the_middle_is_refused_and_mended_by_a_snapshot(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(2, 1, upsert=[card("C0002", "R3")])
    # Delta 3: a bad plate in the middle of good changes. None of them may be applied.
    site.delta(3, 2, upsert=[card("C0005", "R1"), vehicle("NOT-A-PLATE", "R1"), card("C0006", "R1")])
    site.delta(4, 3, upsert=[card("C0007", "R1")])
    error = wait_for("the error reply", lambda: site.upstream("/sync/error"))[0]
    request = wait_for("a snapshot request", lambda: site.asked())[0]
    assert error["version"] == 3 and error["code"] == "invalid"
    assert any("NOT-A-PLATE" in p for p in error["problems"])
    assert request["have_version"] == 2
    assert site.applied() == 2
    assert [site.card_reason(c) for c in ("C0005", "C0006", "C0007")] == ["unknown"] * 3
    site.snapshot(4, directory_v1() + [card("C0005", "R1")])
    site.wait_applied(4)
    assert site.card_reason("C0005") == "resident"


def test_a_snapshot_with_one_bad_entry_is_refused_whole(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    bad = [e for e in directory_v1() if e.get("card") != "C0003"] + [
        card("C0100", "R1"),
        card("C0101", "NO-SUCH-RESIDENT"),
        card("C0102", "R2"),
    ]
    site.snapshot(2, bad)
    error = wait_for("the error reply", lambda: site.upstream("/sync/error"))[0]
    assert error["version"] == 2 and "card C0101: no resident 'NO-SUCH-RESIDENT'" in error["problems"]
    assert site.applied() == 1
    assert site.card_reason("C0100") == "unknown" and site.card_reason("C0003") == "resident"


def test_malformed_downlink_never_stalls_the_gateway(site: Site) -> None:
    for topic, payload in [
        ("sync/snapshot", b"\xff\xfe not json"),
        ("sync/delta", b"[1, 2]"),
        ("sync/delta", b'{"v": 9, "type": "delta"}'),
        ("cmd", b"{"),
        ("sync/snapshot", json.dumps({"v": 1, "type": "snapshot"}).encode()),
    ]:
        site.central.publish(topic, payload)
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    assert site.card_reason("C0001") == "resident"
    errors = wait_for(
        "four error replies",
        lambda: len(site.upstream("/sync/error")) >= 4 and site.upstream("/sync/error"),
    )
    assert {e["code"] for e in errors} == {"malformed", "unsupported"}
    wait_for("the command refusal", lambda: site.upstream("/cmd/reply"))
    assert site.gw.alive()


def test_a_snapshot_removes_what_it_no_longer_lists_and_keeps_booth_passes(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    now = datetime.now(TZ).isoformat()
    site.gw.on_worker(
        lambda conn: conn.execute(
            "INSERT INTO passes (kind, name, valid_from, valid_to, created_at) "
            "VALUES ('visitor', '王五', ?, '2099-01-01', ?)",
            (now, now),
        )
    ).result()
    keep = [e for e in directory_v1() if e.get("ref") not in ("R3", "P1") and e.get("card") != "C0003"]
    site.snapshot(2, keep)
    site.wait_applied(2)
    assert site.rows("SELECT ref FROM residents ORDER BY ref") == [("R1",), ("R2",)]
    assert site.rows("SELECT ref, name FROM passes") == [(None, "王五")]
    assert site.card_reason("C0003") == "unknown"


def test_a_large_snapshot_is_staged_by_a_child_process_and_applied_in_steps(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    n = 3000
    entries = [resident(f"R{i}") for i in range(n)] + [card(f"K{i:06d}", f"R{i}") for i in range(n)]
    with _site(broker, sync_cfg(broker.port, apply_step_rows=500)) as site:
        site.snapshot(1, entries, per_part=1000)
        site.wait_applied(1)
        assert site.rows("SELECT count(*) FROM credentials WHERE kind = 'card'") == [(n,)]
        assert site.card_reason("K002999") == "resident"
        site.snapshot(2, entries[:n] + [card(f"K{i:06d}", f"R{i}") for i in range(0, n, 2)])
        site.wait_applied(2)
        assert site.rows("SELECT count(*) FROM credentials WHERE kind = 'card'") == [(n // 2,)]
        audit = site.rows("SELECT action, target FROM audit WHERE action LIKE 'sync.apply_%'")
    assert audit == [("sync.apply_snapshot", "1"), ("sync.apply_snapshot", "2")]


def test_a_refused_snapshot_sent_again_corrected_is_applied(site: Site) -> None:
    bad = directory_v1() + [card("C0101", "NO-SUCH-RESIDENT")]
    site.snapshot(1, bad, per_part=3)
    wait_for("the error reply", lambda: site.upstream("/sync/error"))
    site.snapshot(1, directory_v1() + [card("C0101", "R2")], per_part=3)
    site.wait_applied(1)
    assert site.card_reason("C0101") == "resident"


def test_a_card_given_to_a_pass_stays_with_the_pass(site: Site) -> None:
    site.snapshot(1, [resident("R1"), card("C0777", "R1"), card("C0888", "R1")])
    site.wait_applied(1)
    # Snapshot 2 hands C0777 from R1 to visitor pass P9; delta 3 does the same with C0888.
    site.snapshot(2, [resident("R1"), card("C0888", "R1"), visitor("P9", ("card", "C0777"))])
    site.wait_applied(2)
    assert site.card_reason("C0777") == "visitor"
    site.delta(
        3,
        2,
        upsert=[visitor("P9", ("card", "C0777"), ("card", "C0888"))],
        delete=[{"kind": "card", "card": "C0888"}],
    )
    site.wait_applied(3)
    assert site.rows(
        "SELECT c.value, p.ref FROM credentials c JOIN passes p ON p.id = c.pass_id ORDER BY c.value"
    ) == [("C0777", "P9"), ("C0888", "P9")]
    assert site.rows("SELECT count(*) FROM credentials WHERE resident_id IS NOT NULL") == [(0,)]
    assert site.card_reason("C0777") == site.card_reason("C0888") == "visitor"
