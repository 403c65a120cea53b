"""Review 63vb of e258fa6: a centre's card delete (docs/mqtt.md, Delta). The number held exactly
and the residents' cards carrying the same bits in another form are struck off; cards agreeing
only partly (a Wiegand 26 number against 32 bits, either way) stay, are named, and refuse nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sync_helpers import wait_for
from test_delta_delete_forms_fix63r import CARDS, _verdict, decimal_site  # noqa: F401
from test_sync_downlink import Site, card, resident, visitor

from gateway.privacy import mask_card


@pytest.fixture
def site(decimal_site: Site) -> Site:  # noqa: F811
    return decimal_site


def _applied(site: Site, version: int) -> dict[str, Any]:
    return wait_for(
        f"sync_applied {version}",
        lambda: [e for e in site.upstream("/events/sync_applied") if e["version"] == version],
        30,
    )[0]


def test_lost_card_held_exactly_and_as_w26_names_the_w26_form(site: Site) -> None:
    """R1 holds a card as 0372653390 and as 054:15694 (its Wiegand 26 form). The centre strikes off
    0372653390: that goes, and the record names 054:15694 (R1) as still held, for the centre to
    strike off by that number if it is the same card."""
    site.snapshot(1, [resident("R1"), card("0372653390", "R1"), card("054:15694", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])
    assert not _verdict(site, 2), _verdict(site, 2)
    record = _applied(site, 2)
    assert site.rows(CARDS) == [("054:15694",)]
    assert record["still_held"] == [
        {"card": "0372653390", "may_be": [{"card": "054:15694", "resident": "R1"}]}
    ], record
    assert "deletes_not_held" not in record["counts"] and "not_held" not in record, record
    sql = "SELECT detail FROM audit WHERE actor = 'central' AND action = 'sync.apply_delta' AND target = '2'"
    (audit,) = (str(row[0]) for row in site.rows(sql))
    assert mask_card("054:15694") in audit and "054:15694" not in audit, audit


def test_resent_delete_of_a_replaced_longer_form_is_no_fault(site: Site) -> None:
    """Delta 2 moves R1's card from 0372653390 to 054:15694; delta 3 repeats the delete of
    0372653390 with a new resident R2: delta 3 is applied, R2 taken, 054:15694 kept and named."""
    site.snapshot(1, [resident("R1"), card("0372653390", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [card("054:15694", "R1")], [{"kind": "card", "card": "0372653390"}])
    assert not _verdict(site, 2), _verdict(site, 2)
    assert site.rows(CARDS) == [("054:15694",)]
    site.delta(3, 2, [resident("R2")], [{"kind": "card", "card": "0372653390"}])
    assert not _verdict(site, 3), _verdict(site, 3)
    record = _applied(site, 3)
    assert site.service.directory.versions.applied == 3
    assert record["counts"]["residents"] == 1 and record["counts"]["deletes_not_held"] == 1, record
    assert site.rows(CARDS) == [("054:15694",)]
    assert record["not_held"] == [
        {"card": "0372653390", "may_be": [{"card": "054:15694", "resident": "R1"}]}
    ], record


def test_pass_exact_and_resident_same_bits(site: Site) -> None:
    """P1 holds 0372653390; R1 holds 05686:15694 (the same 32 bits). The centre strikes off
    0372653390: R1's 05686:15694 goes (named in held_as), the pass keeps its card."""
    site.snapshot(1, [resident("R1"), card("05686:15694", "R1"), visitor("P1", ("card", "0372653390"))])
    site.wait_applied(1)
    assert ("05686:15694",) in site.rows(CARDS)
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])
    assert not _verdict(site, 2), _verdict(site, 2)
    record = _applied(site, 2)
    assert ("05686:15694",) not in site.rows(CARDS)
    assert ("0372653390",) in site.rows(CARDS)
    assert record["held_as"] == [
        {"card": "0372653390", "struck_off": [{"card": "05686:15694", "resident": "R1"}]}
    ], record


def test_two_deletes_one_card_two_notations(site: Site) -> None:
    """One delta deletes 0372653390 and 05686:15694 (R1 holds 05686:15694): the card goes, nothing
    counted not held."""
    site.snapshot(1, [resident("R1"), card("05686:15694", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}, {"kind": "card", "card": "05686:15694"}])
    assert not _verdict(site, 2), _verdict(site, 2)
    record = _applied(site, 2)
    assert site.rows(CARDS) == []
    assert "deletes_not_held" not in record["counts"], record
