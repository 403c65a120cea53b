"""Every command signed under one id and answered is a copy once it comes again, not only the last
one answered (docs/mqtt.md, Remote commands: Received again). Found by reviewer 59i: the gateway
remembered one content per id, and the centre may sign a command refused `bad_args` again,
corrected, under its id. Whoever captured both published them alternately once expired: each was
no longer the one remembered, and was refused `expired` with a WARNING, an audit row and a
cmd/reply each, never limited (signed with the key)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sync_helpers import Mosquitto
from test_sync_commands import KEY, TZ, command, send, write_key
from test_sync_downlink import Site, _site

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.sync.command_copies import CONTENTS_PER_ID, AnsweredCommands
from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE, sign


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    offset = [timedelta(0)]
    real_now = Gateway.now
    monkeypatch.setattr(Gateway, "now", lambda self: real_now(self) + offset[0])
    return offset


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    with _site(broker, cfg) as running:
        yield running


def _resigned(body: dict[str, Any], **args: str) -> dict[str, Any]:
    """The centre's command signed again under its id, with other args."""
    unsigned = {k: v for k, v in body.items() if k != "sig"}
    return sign({**unsigned, "args": args}, KEY)


def _refusals(site: Site) -> int:
    return int(site.rows("SELECT count(*) FROM audit WHERE action = 'command_refused'")[0][0])


def _after(site: Site, clock: list[timedelta]) -> None:
    """Every command published so far handled (they are handled in turn)."""
    resync = command("resync", {"reason": "after the copies"}, issued=datetime.now(TZ) + clock[0])
    assert send(site, resync)["ok"] is True


def test_two_signed_contents_under_one_id_published_alternately_are_copies(
    site: Site, clock: list[timedelta]
) -> None:
    typo = command("open_lane", {"gate": "car-in", "reason": "访客"}, life=60)
    corrected = _resigned(typo, lane="car-in", reason="访客")
    assert send(site, typo)["code"] == "bad_args"  # its id not used: signed again corrected
    assert send(site, corrected)["ok"] is True
    before, replies = _refusals(site), len(site.upstream("/cmd/reply"))
    clock[0] = timedelta(minutes=10)  # both expired now; captured on the broker
    for _ in range(REFUSALS_RECORDED_PER_MINUTE + 20):
        site.central.publish("cmd", json.dumps(typo).encode())
        site.central.publish("cmd", json.dumps(corrected).encode())
    _after(site, clock)
    assert _refusals(site) == before
    assert [r for r in site.upstream("/cmd/reply")[replies:] if r.get("id") == typo["id"]] == []


def test_contents_never_answered_under_an_id_used_are_answered_once_each_and_bounded(
    site: Site, clock: list[timedelta]
) -> None:
    """A command signed under an id used, also where it has expired (verify refuses that first), is
    answered `replayed` once (Review 59m: the centre signed it again, corrected, and waited for ever
    for an answer); published again, in turn with the others, it is a copy; past the contents
    remembered under the id (CONTENTS_PER_ID), each is a copy from the start."""
    ran = command("open_lane", {"lane": "car-in", "reason": "访客"}, life=60)
    assert send(site, ran)["ok"] is True
    before, replies = _refusals(site), len(site.upstream("/cmd/reply"))
    clock[0] = timedelta(minutes=10)
    signed = [_resigned(ran, lane="car-in", reason=f"访客 {i}") for i in range(CONTENTS_PER_ID + 2)]
    for _ in range(3):
        for body in signed:
            site.central.publish("cmd", json.dumps(body).encode())
    _after(site, clock)
    answered = [r for r in site.upstream("/cmd/reply")[replies:] if r.get("id") == ran["id"]]
    assert [r["code"] for r in answered] == ["replayed"] * (CONTENTS_PER_ID - 1)  # the one run is the 8th
    assert _refusals(site) == before + CONTENTS_PER_ID - 1


def test_the_contents_under_an_id_are_bounded_and_its_use_is_kept() -> None:
    answered = AnsweredCommands()
    contents = [f"content {i}".encode() for i in range(CONTENTS_PER_ID + 1)]
    answered.remember("cmd-0001", contents[0], used=True)
    for content in contents[1:]:
        answered.remember("cmd-0001", content, used=False)  # refused bad_args under a used id
    assert answered.used("cmd-0001")
    assert not answered.same_command("cmd-0001", contents[0])  # the oldest let go
    assert all(answered.same_command("cmd-0001", content) for content in contents[1:])
    assert not answered.same_command("cmd-0002", contents[1])
