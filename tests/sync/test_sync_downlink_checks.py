"""What the central server may get wrong in a snapshot or delta: each is refused with the right
error code, and the directory goes on taking what comes after it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, card, directory_v1, resident, vehicle

from gateway.config import SiteConfig
from gateway.sync.messages import encode_delta, encode_snapshot


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def test_a_delta_with_an_out_of_range_version_does_not_wedge_the_directory(site: Site) -> None:
    """A version too large for a 64-bit integer is refused as malformed; the next snapshot still
    applies (it used to leave the staging file mid-transaction: no sync until a restart)."""
    site.central.publish("sync/delta", encode_delta(2**63, 0, [resident("R1")]))  # then, in order:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    (error,) = wait_for("the error reply", lambda: site.upstream("/sync/error"), 10)
    assert error["code"] == "malformed" and "version" in error["message"]


def test_a_snapshot_with_an_out_of_range_version_does_not_wedge_the_directory(site: Site) -> None:
    bad = json.loads(encode_snapshot(1, directory_v1(), 100)[0])
    bad["version"] = 2**63
    site.central.publish("sync/snapshot", json.dumps(bad, ensure_ascii=False).encode())
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    errors = wait_for("the error reply", lambda: site.upstream("/sync/error"), 10)
    assert [e["code"] for e in errors] == ["malformed"]


def test_a_deeply_nested_delta_gets_an_error_reply(site: Site) -> None:
    """JSON nested deeper than the parser goes is malformed like any other bad JSON."""
    site.central.publish("sync/delta", b"[" * 100_000 + b"]" * 100_000)
    errors = wait_for("the error reply", lambda: site.upstream("/sync/error"), 10)
    assert errors[0]["code"] == "malformed"


def test_a_snapshot_resent_in_another_split_after_a_lost_part_is_applied(site: Site) -> None:
    """Snapshot 1 in 3 parts loses part 2 on the way; the central server sends it again in 2
    parts (it changed its part size): the complete copy is applied, the stale parts forgotten."""
    entries = directory_v1()
    first = encode_snapshot(1, entries, 4)
    assert len(first) == 3
    site.central.publish("sync/snapshot", first[0])
    site.central.publish("sync/snapshot", first[2])  # MQTT keeps one publisher's order
    for part in encode_snapshot(1, entries, 6):
        site.central.publish("sync/snapshot", part)
    wait_for(
        "snapshot 1 applied or refused",
        lambda: site.service.directory.versions.applied == 1 or site.upstream("/sync/error"),
        15,
    )
    assert site.upstream("/sync/error") == [] and site.service.directory.versions.applied == 1


def test_a_snapshot_whose_parts_do_not_add_up_is_refused_as_incomplete(site: Site) -> None:
    """docs/mqtt.md: `incomplete` is the code for a snapshot whose parts do not add up."""
    for part in encode_snapshot(1, directory_v1(), 4):
        body = json.loads(part)
        body["total"] = 11  # the parts hold 10
        site.central.publish("sync/snapshot", json.dumps(body, ensure_ascii=False).encode())
    error = wait_for("the error reply", lambda: site.upstream("/sync/error"), 15)[0]
    assert error["code"] == "incomplete", error
    assert error["problems"] == ["snapshot 1 says 11 entries, its parts hold 10"]


def test_a_card_for_another_residents_car_is_refused_as_by_a_csv_import(site: Site) -> None:
    """A card opens the barrier only for its own resident's car, from the central server as from
    a CSV import: in a snapshot, and in a delta naming a car the gateway already holds."""
    site.snapshot(
        1,
        [
            resident("R1"),
            resident("R2"),
            {"kind": "vehicle", "plate": "粤B12345", "resident": "R2"},
            card("C0001", "R1", plate="粤B12345"),
        ],
    )
    error = wait_for("the error reply", lambda: site.upstream("/sync/error"), 15)[0]
    assert error["code"] == "invalid" and error["problems"] == [
        "card C0001: 粤B12345 is R2's vehicle, not R1's: a card opens the barrier only for its own "
        "resident's car"
    ]
    site.snapshot(2, directory_v1())
    site.wait_applied(2)
    # R1's car moves to R3 with a card of R3's for it: the delta's own owner counts.
    site.delta(3, 2, upsert=[vehicle("粤B12345", "R3"), card("C0009", "R3", plate="粤B12345")])
    site.wait_applied(3)
    site.delta(4, 3, upsert=[card("C0010", "R1", plate="粤B12345")])  # R3's car now
    wait_for("the second error reply", lambda: len(site.upstream("/sync/error")) == 2, 15)
    assert site.upstream("/sync/error")[1]["problems"] == [
        "card C0010: 粤B12345 is R3's vehicle, not R1's: a card opens the barrier only for its own "
        "resident's car"
    ]
    assert site.applied() == 3


def test_a_delta_moving_a_car_away_from_a_card_that_names_it_is_refused(site: Site) -> None:
    """R2's card C0002 names R2's car 粤BD12345. A delta gave that car to R3 and left the card as
    it was: R2's card then brought R3's car in, and the daily snapshot of that same directory was
    refused as invalid, every day. The card must move or let go of the car in the same delta."""
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    site.delta(2, 1, upsert=[vehicle("粤BD12345", "R3")])
    (error,) = wait_for("the error reply", lambda: site.upstream("/sync/error"), 15)
    assert error["problems"] == [
        "card C0002: 粤BD12345 is R3's vehicle, not R2's: a card opens the barrier only for its own "
        "resident's car; move the card or clear its plate in the same change"
    ]
    site.delta(2, 1, upsert=[vehicle("粤BD12345", "R3"), card("C0002", "R2")])  # the card lets go
    site.wait_applied(2)
    after = [e for e in directory_v1() if e.get("plate") != "粤BD12345"]
    site.snapshot(3, [*after, vehicle("粤BD12345", "R3"), card("C0002", "R2")])
    site.wait_applied(3)
    assert len(site.upstream("/sync/error")) == 1


def test_a_lone_surrogate_in_an_entry_gets_an_error_reply(site: Site) -> None:
    """A name holding the JSON escape of a lone UTF-16 surrogate ("\\ud800") cannot be stored:
    staging failed on it with no error reply, and the delta was never refused nor applied."""
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    bad = encode_delta(2, 1, [resident("R9", name="王\\ud800")]).replace(b"\\\\ud800", b"\\ud800")
    site.central.publish("sync/delta", bad)
    (error,) = wait_for("the error reply", lambda: site.upstream("/sync/error"), 15)
    assert error["code"] == "malformed" and "surrogate" in error["message"], error
    site.delta(2, 1, [resident("R9")])
    site.wait_applied(2)
