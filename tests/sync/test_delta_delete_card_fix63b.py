"""A delta's deletes, as the centre would see them done. (1) The centre, fed the same Excel list that
dropped a card's leading zero, strikes off a lost card by {"kind": "card", "card": "372653390"}. At
a site whose readers give the 10 printed digits (EM4100 decimal), the card stored is 0372653390.
The upsert of that short number is refused with the fix; until fix 63b the delete was taken,
matched nothing, the delta's version was applied and the lost card kept opening the door.
(2) A delete naming something the gateway does not hold is applied (a delete sent again, after a
snapshot that already left it out, is no fault), and the sync_applied record counts it in
`deletes_not_held`, so that a centre whose key was wrong notices (docs/mqtt.md, Delta)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SITE_TOML, mqtt_section
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_downlink import Site, _site, card, directory_v1, resident

from gateway.config import SiteConfig, parse_config

DECIMAL_READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
format = "em4100"
em4100_number = "decimal"
"""


@pytest.fixture
def decimal_site(broker: Mosquitto, tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    data.mkdir()
    text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id="test-site") + DECIMAL_READER
    cfg = parse_config(text + "\n" + mqtt_section(broker.port), "site.toml", base_dir=tmp_path)
    with _site(broker, cfg) as s:
        yield s


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def test_a_delete_of_a_card_without_its_leading_zero_is_refused_as_its_upsert_is(decimal_site: Site) -> None:
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("0372653390", "R1")])
    site.wait_applied(1)
    assert site.card_reason("0372653390") == "resident"
    site.delta(2, 1, [], [{"kind": "card", "card": "372653390"}])  # Excel dropped its 0
    wait_for(
        "the delta applied or refused",
        lambda: site.upstream("/sync/error") or site.service.directory.versions.applied == 2,
        30,
    )
    errors = site.upstream("/sync/error")
    assert errors and errors[0]["code"] == "invalid", (
        f"a delete naming card 372653390 at a 10-digit site should be refused as its upsert is; got "
        f"errors={errors}, applied version {site.service.directory.versions.applied}: applied, it "
        "deletes nothing and the lost card 0372653390 keeps opening"
    )
    (problem,) = errors[0]["problems"]
    assert problem.startswith("delete 0: card: ") and "0372653390" in problem and "10 digits" in problem, (
        problem
    )
    assert site.applied() == 1

    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])  # sent again, as printed
    site.wait_applied(2)
    assert site.card_reason("0372653390") == "unknown"


def test_a_delete_of_what_the_gateway_does_not_hold_is_applied_and_counted(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(
        2,
        1,
        [],
        [
            {"kind": "card", "card": "C0003"},
            {"kind": "card", "card": "C0009"},
            {"kind": "resident", "ref": "R9"},
        ],
    )
    site.wait_applied(2)
    site.delta(3, 2, [], [{"kind": "card", "card": "C0003"}])  # the same card struck off again
    site.wait_applied(3)
    assert site.upstream("/sync/error") == []
    assert site.card_reason("C0003") == "unknown"
    got = wait_for(
        "3 sync_applied records",
        lambda: len(site.upstream("/events/sync_applied")) >= 3 and site.upstream("/events/sync_applied"),
    )
    counts = {e["version"]: e["counts"] for e in got}
    assert counts[1].get("deletes_not_held") is None  # a snapshot's deletes are what it no longer lists
    assert counts[2]["deletes"] == 3 and counts[2]["deletes_not_held"] == 2, counts[2]
    assert counts[3]["deletes"] == 1 and counts[3]["deletes_not_held"] == 1, counts[3]
