"""One captured, expired, signed command published again in many spellings (spaces, key order, the
signature's hex in capitals: the signature still matches) is refused and recorded once: the others
are copies of it (docs/mqtt.md, Remote commands: Received again). Found by reviewer 59d: each
spelling was the central server's own command, refused `expired` with a WARNING line, an audit row
and a cmd/reply each, past the limit on refusals that keeps an open ACL from filling them."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from test_sync_commands import TZ, command, send, site  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site

from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE


def _spellings(body: dict[str, Any], count: int) -> list[bytes]:
    text = json.dumps(body)
    shouted = json.dumps({**body, "sig": body["sig"].upper()})
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    return [text.encode(), shouted.encode(), reordered.encode()] + [
        (" " * i + text).encode() for i in range(1, count - 2)
    ]


def test_a_captured_expired_command_in_many_spellings_is_recorded_once(
    site: Site,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    captured = command(issued=datetime.now(TZ) - timedelta(minutes=10))  # captured on the broker
    for spelling in _spellings(captured, REFUSALS_RECORDED_PER_MINUTE + 80):
        site.central.publish("cmd", spelling)
    # Commands are handled in turn: once the next one is answered, every spelling was handled.
    assert send(site, command("resync", {"reason": "after the flood"}))["ok"] is True
    replies = [r for r in site.upstream("/cmd/reply") if r.get("id") == captured["id"]]
    assert [r["code"] for r in replies] == ["expired"]
    assert site.rows("SELECT count(*) FROM audit WHERE action = 'command_refused'") == [(1,)]
    warnings = [
        r for r in caplog.records if r.name == "gateway.sync.commands" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert any("received again" in r.getMessage() for r in caplog.records)
    assert site.service.commands.refused == 1
