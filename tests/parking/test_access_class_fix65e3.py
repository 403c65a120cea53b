"""Review 65 E3: a vehicle let in on a card (no plate) is counted in its class by the gateway, and the
centre's `access` record says which class too, so the centre counts cars, motorcycles and bicycles
in and out separately (REQUIREMENTS 5). A card at a door is still a person walking: no vehicle."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0

M = timedelta(minutes=1)
CARD = "0012345678"
BIKE_LANES = """
[[lanes]]
id = "bike-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
vehicle_class = "bicycle"

[[lanes]]
id = "bike-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
vehicle_class = "bicycle"
"""


def _sent(gw: Gateway, ev: AccessEvent) -> dict[str, Any]:
    (payload,) = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'access' AND event_id = ?", (ev.event_id,)
    ).fetchone()
    return json.loads(payload)  # type: ignore[no-any-return]


def test_an_e_bike_in_and_out_on_a_card_goes_up_as_a_bicycle(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    gw = make_gw(extra=BIKE_LANES)
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref\n{CARD},R2\n")])
    came = gw.handle(Presented("bike-in", "card", CARD, 1.0, T0, "reader"))
    left = gw.handle(Presented("bike-out", "card", CARD, 1.0, T0 + 30 * M, "reader"))
    assert came.admitted and left.admitted, (came.reason, left.reason)
    for ev in (came, left):
        sent = _sent(gw, ev)
        assert sent["vehicle"] == {"id": None, "plate": None, "class": "bicycle"}, sent


def test_a_card_at_the_door_still_goes_up_with_no_vehicle(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    gw = make_gw()
    import_csv(gw.site.config, [write_csv(tmp_path / "c.csv", f"card,resident_ref\n{CARD},R2\n")])
    ev = gw.handle(Presented("door", "card", CARD, 1.0, T0, "reader"))
    assert ev.admitted, ev.reason
    assert _sent(gw, ev)["vehicle"] is None
