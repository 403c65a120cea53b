"""A command the centre signs again, corrected, under an id used already is answered, not taken for
a copy (docs/mqtt.md, Remote commands: Received again). Found by reviewer 59m: `open_lane` for a
lane the site does not have ("car-inn") is refused `bad_args` once the command was accepted, its id
used; the centre signed it again corrected under that id, as docs/mqtt.md said it may after
`bad_args`, and the gateway took it for a copy: the gate did not open, no cmd/reply, no audit row,
no log line; the centre waited for ever and the visitor stayed at the barrier."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sync_helpers import Mosquitto
from test_sync_commands import KEY, command, pulses, send, write_key
from test_sync_downlink import Site, _site

from gateway.config import SiteConfig
from gateway.sync.commands import sign


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    with _site(broker, cfg) as running:
        yield running


def _resigned(body: dict[str, Any], **args: str) -> dict[str, Any]:
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    return sign({**unsigned, "args": args}, KEY)


def _refused_rows(site: Site, cid: str) -> int:
    rows = site.rows("SELECT detail FROM audit WHERE action = 'command_refused'")
    return sum(1 for (detail,) in rows if json.loads(detail).get("id") == cid)


def test_a_command_corrected_under_the_id_of_a_bad_lane_is_answered_send_it_under_a_new_id(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    typo = command("open_lane", {"lane": "car-inn", "reason": "访客"}, life=120)
    first = send(site, typo)
    assert first["code"] == "bad_args" and "car-in" in first["fix"]
    caplog.set_level(logging.WARNING, logger="gateway.sync.commands")
    corrected = _resigned(typo, lane="car-in", reason="访客")
    again = send(site, corrected)
    assert again["ok"] is False and again["code"] == "replayed"
    assert "new id" in again["fix"]
    assert pulses(site) == []  # its id was used: not run
    assert _refused_rows(site, typo["id"]) == 1
    assert any("code=replayed" in r.getMessage() for r in caplog.records)
    # A copy of it (the broker's, after a link drop) is not answered again.
    replies = len(site.upstream("/cmd/reply"))
    site.central.publish("cmd", json.dumps(corrected).encode())
    assert send(site, command("resync", {"reason": "after the copy"}))["ok"] is True
    assert [r for r in site.upstream("/cmd/reply")[replies:] if r.get("id") == typo["id"]] == []
    assert _refused_rows(site, typo["id"]) == 1
    # Sent under a new id, as the reply says, the gate opens.
    assert send(site, command("open_lane", {"lane": "car-in", "reason": "访客"}))["ok"] is True
    assert len(pulses(site)) == 1


def test_an_id_left_free_by_a_refusal_before_acceptance_still_runs_the_corrected_command(site: Site) -> None:
    """`bad_args` for args the command does not take is refused before it is accepted: the id stays
    free, and the corrected command signed under it runs."""
    typo = command("open_lane", {"gate": "car-in", "reason": "访客"})
    assert send(site, typo)["code"] == "bad_args"
    assert send(site, _resigned(typo, lane="car-in", reason="访客"))["ok"] is True
    assert len(pulses(site)) == 1
