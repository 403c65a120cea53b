"""Reviewing be0ae40: card_ambiguous, a Wiegand 26 number that names two registered cards, for lifting
a block through the API (docs/hardware.md: a card typed to block it or lift its block ...)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_card
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving

PRINTED = "0372653390"  # id 0x0016363D4E, Wiegand 26 054:15694
OTHER = f"{0x01363D4E:010d}"  # same low 24 bits: 054:15694 too
W26 = "054:15694"


def test_lifting_a_block_by_an_ambiguous_wiegand_number_is_not_told_to_block_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """An admin (the API, with a token) lifts the block of a found card by the Wiegand 26 number
    printed on it, which two registered cards end in: nothing is changed, rightly, but the answer's
    fix says 'or block it on its resident's page', the opposite of what he asked. It should tell him to
    type the printed digits or unblock it on its resident's page."""
    with serving(make_gw()) as (gw, client, auth):
        rid = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
        for card in (PRINTED, OTHER):
            gw.on_worker(
                lambda c, card=card: add_card(c, gw.now(), "admin", card, rid, None, None, None, "")
            ).result(timeout=10)
        for card in (PRINTED, OTHER):
            r = client.post(
                "/api/credentials/block",
                headers=auth,
                json={"kind": "card", "value": card, "reason": "业主报失"},
            )
            assert r.status_code == 200, r.text
        r = client.post(
            "/api/credentials/unblock",
            headers=auth,
            json={"kind": "card", "value": W26, "reason": "卡已找回"},
        )
    body = r.json()["error"]
    assert r.status_code == 409 and body.get("code") == "card_ambiguous", r.text
    fix = str(body.get("fix", ""))
    assert "or block it on" not in fix, f"asked to lift a block, the admin is told: {fix}"
    assert "unblock it on its resident's page" in fix, f"asked to lift a block, the admin is told: {fix}"
