"""The centre's own signed command is answered during a flood of forged ones, whatever its refusal
(docs/mqtt.md: commands signed with the key are never limited)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sync_helpers import wait_for
from test_sync_command_abuse import FORGED_KEY
from test_sync_commands import KEY, TZ, command, site  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site

from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE, sign


def without_zone(body: dict[str, Any]) -> None:
    """issued_at as a Java LocalDateTime writes it: no offset."""
    body["issued_at"] = datetime.now(TZ).replace(tzinfo=None).isoformat(timespec="seconds")


def without_expiry(body: dict[str, Any]) -> None:
    del body["expires_at"]


@pytest.mark.parametrize("spoil", [without_zone, without_expiry])
def test_a_signed_command_refused_malformed_is_answered_during_a_flood(
    site: Site,  # noqa: F811
    spoil: Callable[[dict[str, Any]], None],
) -> None:
    """A command signed with the key, refused `malformed` after its signature was found good (a
    time without its zone, no expires_at), got no reply and no audit row during a flood of forged
    commands: it was limited as they are, by its code."""
    commands = site.service.commands
    commands._clock = lambda: 1000.0  # the whole flood within one minute
    for _ in range(REFUSALS_RECORDED_PER_MINUTE + 5):
        site.central.publish("cmd", json.dumps(command(key=FORGED_KEY)).encode())
    wait_for("every forged command refused", lambda: commands.refused == REFUSALS_RECORDED_PER_MINUTE + 5)
    body = command(key=None)
    spoil(body)
    body = sign(body, KEY)
    site.central.publish("cmd", json.dumps(body).encode())
    wait_for("the signed command refused", lambda: commands.refused == REFUSALS_RECORDED_PER_MINUTE + 6)

    def replies_to_it() -> list[dict[str, Any]]:
        return [r for r in site.upstream("/cmd/reply") if r.get("id") == body["id"]]

    wait_for("the link sends the reply up", lambda: replies_to_it())
    time.sleep(0.5)  # and no second one follows
    replies = replies_to_it()
    # Read once the reply is up (it goes after the audit row is written), not as `refused` counts
    # it: that comes first, and on a loaded box the row was not yet written when read there.
    audited = site.rows(
        f"SELECT count(*) FROM audit WHERE action = 'command_refused' AND instr(detail, '{body['id']}') > 0"
    )[0][0]
    assert audited == 1 and len(replies) == 1, (
        f"the centre's signed command: {audited} audit row(s), {len(replies)} reply(ies)"
    )
    assert replies[0]["code"] == "malformed"
    assert replies[0]["refused_unrecorded_before"] == 5  # the forged ones past the limit, named
    assert commands.unrecorded == 0
