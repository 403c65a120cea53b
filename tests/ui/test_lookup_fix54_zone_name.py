"""The lookup page names a resident's slot by its zone as the occupancy page does."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, PLATE, app, client, log_in, site  # noqa: F401


def test_lookup_names_the_slot_zone_as_the_occupancy_page_does(client: TestClient) -> None:  # noqa: F811
    """A resident's slot read main/B001 on the lookup page, the zone's id from the config, where the
    occupancy page says 车库: the guard could not tell which car park the slot is in."""
    h = log_in(client, GUARD)
    assert "车库" in client.get("/occupancy").text  # the zone as the occupancy page names it
    page = client.post("/lookup", data={"q": PLATE, "csrf": h["X-CSRF-Token"]}).text
    slots = page.split("<h3>车位</h3>")[1].split("</ul>")[0]
    assert "车库/B001" in slots, slots
    assert "main/" not in slots, slots
