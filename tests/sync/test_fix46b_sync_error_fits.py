"""A refusal with many problems is answered on `sync/error` even at the smallest max_message_bytes
(docs/mqtt.md: the record always fits; problems past what fits are dropped and counted)."""

from __future__ import annotations

import json
from collections.abc import Callable

from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.sync.replies import fit


def test_a_delta_with_50_problems_is_answered_at_the_smallest_max_message_bytes(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """At max_message_bytes = 1024 (the smallest [mqtt] accepts) a delta refused `invalid` with 50
    problems is still answered on sync/error; fit() stopped cutting at 16 characters a text, the
    50 short problems stayed over the room, and the record was set aside instead."""
    with _site(broker, sync_cfg(broker.port, max_message_bytes=1024)) as site:
        upsert = [{"kind": "vehicle", "plate": f"粤B{i:05d}", "resident": f"NOBODY{i}"} for i in range(60)]
        site.delta(1, 0, upsert=upsert)

        def outcome() -> tuple[list[object], list[dict[str, object]]] | None:
            set_aside = site.rows("SELECT seq, quarantined FROM outbox WHERE quarantined IS NOT NULL")
            got = [e for e in site.upstream("/sync/error") if e.get("code") == "invalid"]
            return (set_aside, got) if set_aside or got else None

        set_aside, got = wait_for("a sync_error or a set-aside row", outcome)
        assert not set_aside, f"the sync_error was set aside as too large: {set_aside}"
        error = got[0]
        assert error["message"] and error["problems"]
        assert isinstance(error["problems_more"], int)
        assert len(error["problems"]) + error["problems_more"] == 50
        assert len(json.dumps(error, ensure_ascii=False).encode()) <= 1024


def test_fit_drops_problems_from_the_end_and_counts_them() -> None:
    """When cutting the texts is not enough, the last problems go, counted in problems_more."""
    error = {"kind": "delta", "version": 1, "code": "invalid", "message": "delta 1 refused",
             "problems": [f"entry {i} (vehicle 粤B{i:05d}): resident NOBODY{i} is not in the directory"
                          for i in range(50)]}
    fitted = fit(error, 500)
    assert len(json.dumps(fitted, ensure_ascii=False).encode()) <= 500
    assert fitted["problems"][0].startswith("entry 0 ")
    assert len(fitted["problems"]) + fitted["problems_more"] == 50
    assert fitted["code"] == "invalid" and fitted["version"] == 1


def test_fit_keeps_at_least_code_and_message_in_a_tiny_room() -> None:
    """In a room too small for even one problem, every problem goes: code and message stay."""
    error = {"kind": "delta", "version": 1, "code": "invalid", "message": "delta 1 refused",
             "problems": ["x" * 200] * 50}
    fitted = fit(error, 120)
    assert fitted["problems"] == [] and fitted["problems_more"] == 50
    assert fitted["code"] == "invalid" and fitted["message"] == "delta 1 refused"


def test_fit_leaves_a_reply_that_fits_alone() -> None:
    """A reply already in its room comes back as it was, with no count added."""
    reply = {"id": "c1", "name": "open_lane", "ok": True, "result": {"lane": "car-in"}}
    assert fit(reply, 400) == reply
    error = {"code": "invalid", "message": "m", "problems": ["a", "b"]}
    assert fit(error, 400) == error
