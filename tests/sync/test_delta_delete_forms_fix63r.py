"""A delta's card deletes, as the centre sees them done (Review 63r of fix 63b).

(1) A card the gateway holds in another form (054:15694, the Wiegand 26 form of 0372653390, which
the door finds whatever form a reader gives) struck off by its printed number: until fix 63r the
delete was applied, counted deletes_not_held, and the lost card kept opening. Now (fix 63v) the
delta is refused naming the card held and the number to delete: 054:15694 is any card whose id ends
in its 24 bits, and the gateway never guesses it is the one meant; a Wiegand 26 number agreeing with
held cards of 32 bits strikes nothing off and names them (tests/sync/test_delta_delete_wrong_card_fix63v.py).
(2) A short card number the gateway holds exactly as sent (372653390, taken before the digit
rule) could not be struck off: the whole delta was refused "pad it with zeros", and padded as told
it struck nothing off. Now the number held is struck off, and so is it for the padded number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SITE_TOML, mqtt_section
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_downlink import Site, _site, card, resident

from gateway.config import parse_config

CARDS = "SELECT value FROM credentials WHERE kind = 'card' ORDER BY value"
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


def _hold(site: Site, number: str) -> None:
    """A card the register holds as an older version (before the digit rule) took it."""

    def write(conn):
        rid = conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
        with conn:
            conn.execute(
                "INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, ?)", (number, rid)
            )

    site.gw.on_worker(write).result(timeout=10)


def _verdict(site: Site, version: int) -> list[dict]:
    wait_for(
        "the delta applied or refused",
        lambda: site.upstream("/sync/error") or site.service.directory.versions.applied == version,
        30,
    )
    return site.upstream("/sync/error")


def _counts(site: Site, version: int) -> dict:
    got = wait_for(
        f"the sync_applied record of {version}",
        lambda: [e for e in site.upstream("/events/sync_applied") if e["version"] == version],
        30,
    )
    return got[0]["counts"]


def test_a_held_short_card_can_be_struck_off_by_the_number_the_gateway_holds(decimal_site: Site) -> None:
    """The centre strikes off 372653390 (a row the gateway holds, taken before the digit rule) and,
    in the same delta, a lost card 0099887766: until fix 63r the whole delta was refused, so the lost
    card kept opening until a snapshot came."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("0099887766", "R1")])
    site.wait_applied(1)
    _hold(site, "372653390")
    site.delta(2, 1, [], [{"kind": "card", "card": "372653390"}, {"kind": "card", "card": "0099887766"}])
    errors = _verdict(site, 2)
    assert not errors and site.rows(CARDS) == [], (
        "the centre struck off card 372653390, the very number the gateway holds, and lost card "
        "0099887766 in the same delta: both should be gone. Got sync_error "
        f"{[e['problems'] for e in errors]}; cards held {site.rows(CARDS)}"
    )
    assert site.card_reason("0099887766") == "unknown"
    assert "deletes_not_held" not in _counts(site, 2)


def test_padded_as_the_refusal_says_the_held_short_card_is_struck_off(decimal_site: Site) -> None:
    site = decimal_site
    site.snapshot(1, [resident("R1")])
    site.wait_applied(1)
    _hold(site, "372653390")
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])  # as the 63b refusal told
    errors = _verdict(site, 2)
    assert not errors and site.rows(CARDS) == [], (
        "the centre padded the number as the refusal said (0372653390); the card the gateway holds as "
        f"372653390 should be struck off; errors {errors}, rows {site.rows(CARDS)}"
    )
    assert "deletes_not_held" not in _counts(site, 2)


def test_a_short_number_the_gateway_does_not_hold_is_still_refused(decimal_site: Site) -> None:
    """Fix 63b's refusal stands where the short number names nothing held: the card held is the
    padded one, and the refusal says to pad it."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("0372653390", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "372653390"}])
    (error,) = _verdict(site, 2)
    assert error["code"] == "invalid" and "0372653390" in error["problems"][0], error
    assert site.rows(CARDS) == [("0372653390",)]


def test_a_card_held_in_another_form_deleted_by_its_printed_number(decimal_site: Site) -> None:
    """Fix 63v: 054:15694 carries 24 bits of 0372653390 and of 255 other printed numbers, so the
    delete strikes nothing off and names it (until fix 63v it was struck off, whichever card it
    was; Review 63vb: until then the delta was refused); deleted by that number, it goes and the
    lost card no longer opens."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("054:15694", "R1")])  # an old Wiegand 26 list
    site.wait_applied(1)
    before = site.card_reason("0372653390")
    assert before == "resident"
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])  # the lost card, as printed
    assert not _verdict(site, 2), _verdict(site, 2)
    counts = _counts(site, 2)
    assert counts["deletes_not_held"] == 1 and site.rows(CARDS) == [("054:15694",)], counts
    site.delta(3, 2, [], [{"kind": "card", "card": "054:15694"}])  # as the record names it
    site.wait_applied(3)
    after = site.card_reason("0372653390")
    assert after == "unknown" and site.rows(CARDS) == [], (
        f"card 0372653390 (held as 054:15694, read as {before!r}) was struck off by the centre's delta; "
        f"it now gives {after!r}, rows {site.rows(CARDS)}"
    )
    counts = _counts(site, 3)
    assert counts["deletes"] == 1 and "deletes_not_held" not in counts, counts


def test_a_number_held_as_sent_strikes_off_that_number_only(decimal_site: Site) -> None:
    """R1's card kept in both forms (the office moving its list to printed numbers; the gateway said
    to delete the old number once the new one replaces it): the centre deletes 054:15694, which it
    holds as an entry of its own, and 0372653390, its other entry, stays and opens."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("0372653390", "R1"), card("054:15694", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "054:15694"}])
    assert not _verdict(site, 2)
    assert site.rows(CARDS) == [("0372653390",)] and site.card_reason("0372653390") == "resident"


def test_a_card_one_resident_holds_in_two_other_forms_goes_in_both(decimal_site: Site) -> None:
    """Struck off by its printed number, held as 054:15694 and 05686:15694 (Wiegand 26 and 34):
    with one left, the lost card would still open, found in that form. 05686:15694 is the printed
    number's 32 bits, the card, and goes; 054:15694 may be another card (fix 63v): it stays, named
    in the record's `still_held` (Review 63vb: until then the delta was refused), and goes with a
    delta deleting it too."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), card("054:15694", "R1"), card("05686:15694", "R1")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "0372653390"}])
    assert not _verdict(site, 2), _verdict(site, 2)
    assert site.rows(CARDS) == [("054:15694",)]
    site.delta(3, 2, [], [{"kind": "card", "card": "0372653390"}, {"kind": "card", "card": "054:15694"}])
    site.wait_applied(3)
    assert site.rows(CARDS) == [] and site.card_reason("0372653390") == "unknown", site.rows(CARDS)
    counts = _counts(site, 3)
    assert counts["deletes"] == 2 and counts["deletes_not_held"] == 1, counts


def test_a_number_naming_two_residents_cards_strikes_neither_and_names_them(decimal_site: Site) -> None:
    """054:15694 carries 24 bits of the id: R1's 0372653390 and R2's 0389430606 both end in them.
    Which card is lost the number cannot say. Fix 63v: a shorter number than the cards held strikes
    nothing off and is no fault (a replaced form's delete sent again); it is counted not held and
    the sync_applied record names the cards it may be (until fix 63v the delta was refused)."""
    site = decimal_site
    site.snapshot(1, [resident("R1"), resident("R2"), card("0372653390", "R1"), card("0389430606", "R2")])
    site.wait_applied(1)
    site.delta(2, 1, [], [{"kind": "card", "card": "054:15694"}])
    assert not _verdict(site, 2)
    assert site.rows(CARDS) == [("0372653390",), ("0389430606",)]
    assert _counts(site, 2)["deletes_not_held"] == 1
    (record,) = [e for e in site.upstream("/events/sync_applied") if e["version"] == 2]
    (not_held,) = record["not_held"]
    assert not_held["may_be"] == [
        {"card": "0372653390", "resident": "R1"},
        {"card": "0389430606", "resident": "R2"},
    ], record
