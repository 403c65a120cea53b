"""A delta whose list is misspelt ("deletes" for "delete", "upserts" for "upsert") is no empty
delta: the centre meant to strike a card off. Until fix 63b it was applied as one (the version moved
on, nothing on sync/error, the card kept opening). docs/mqtt.md: missing or wrong fields are
`malformed`, answered on sync/error naming what to fix, and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, directory_v1

from gateway.config import SiteConfig
from gateway.sync.errors import DownlinkRejected
from gateway.sync.messages import encode_delta, encode_snapshot, parse_delta, parse_snapshot_part


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def test_a_misspelt_delete_list_is_refused_not_applied_as_empty(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    body = {
        "v": 1,
        "type": "delta",
        "version": 2,
        "base": 1,
        "deletes": [{"kind": "card", "card": "C0003"}],
    }  # typo for "delete"
    site.central.publish("sync/delta", json.dumps(body).encode())
    wait_for(
        "the delta applied or refused",
        lambda: site.upstream("/sync/error") or site.service.directory.versions.applied == 2,
        30,
    )
    errors = site.upstream("/sync/error")
    assert errors and errors[0]["code"] == "malformed" and errors[0]["version"] == 2, (
        f"a delta with an unknown field 'deletes' should be refused malformed; got errors={errors}, "
        f"applied version {site.service.directory.versions.applied}"
    )
    said = json.dumps(errors[0], ensure_ascii=False)
    assert "deletes" in said and "delete" in said.replace("deletes", ""), said  # the key and the right one
    assert site.applied() == 1
    assert (
        site.card_reason("C0003") == "resident"
    )  # nothing of it applied: the centre sends it again, spelt right


@pytest.mark.parametrize("key", ["upserts", "deletes", "Delete", "entries", "comment"])
def test_an_unknown_top_level_key_of_a_delta_is_malformed(key: str) -> None:
    body = json.loads(encode_delta(5, 4))
    body[key] = []
    with pytest.raises(DownlinkRejected) as exc:
        parse_delta(json.dumps(body).encode())
    assert exc.value.code == "malformed" and exc.value.version == 5
    assert key in str(exc.value) and "upsert" in str(exc.value), str(exc.value)


@pytest.mark.parametrize("key", ["entry", "upsert", "delete"])
def test_an_unknown_top_level_key_of_a_snapshot_part_is_malformed(key: str) -> None:
    (part,) = encode_snapshot(3, [])
    body = json.loads(part)
    body[key] = [{"kind": "card", "card": "C0003"}]
    with pytest.raises(DownlinkRejected) as exc:
        parse_snapshot_part(json.dumps(body).encode())
    assert exc.value.code == "malformed" and exc.value.version == 3
    assert key in str(exc.value) and "entries" in str(exc.value), str(exc.value)


def test_a_delta_of_another_schema_with_new_keys_is_still_unsupported() -> None:
    """A v=2 message may well have keys this gateway does not know: `unsupported` says why."""
    with pytest.raises(DownlinkRejected) as exc:
        parse_delta(json.dumps({"v": 2, "type": "delta", "version": 5, "base": 4, "renames": []}).encode())
    assert exc.value.code == "unsupported"


def test_the_messages_the_centre_side_encodes_are_taken() -> None:
    assert parse_delta(encode_delta(2, 1, [{"kind": "card"}], [{"kind": "card"}])).upsert
    assert parse_snapshot_part(encode_snapshot(1, [{"kind": "card"}])[0]).entries
