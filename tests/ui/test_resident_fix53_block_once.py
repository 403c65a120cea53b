"""A resident blocked through POST /api/residents (review 53k) went upstream and into the audit twice:
the block's own record, and a resident.upsert naming nothing but the ref. The same edit sent again
(the admin's retry after a lost answer) was audited and sent upstream again as an empty change. A
block is one record; an edit that changes nothing is answered as the first was, and recorded once."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, stored


def _records(site: Site) -> list[dict[str, object]]:
    rows = stored(site, "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
    return [json.loads(payload) for (payload,) in rows]


def _audited(site: Site) -> list[str]:
    query = "SELECT action FROM audit WHERE action LIKE 'resident.%' ORDER BY id"
    return [action for (action,) in stored(site, query)]


def test_a_block_is_one_record_and_the_same_edit_again_records_nothing(
    client: TestClient, site: Site
) -> None:
    admin = bearer(site.admin_token)
    records, audited = len(_records(site)), len(_audited(site))
    first = client.post("/api/residents", json={"ref": "R1", "blocked": True}, headers=admin)
    assert first.status_code == 200, first.text
    assert _audited(site)[audited:] == ["resident.block"]
    new = _records(site)[records:]
    assert len(new) == 1, new
    again = client.post("/api/residents", json={"ref": "R1", "blocked": True}, headers=admin)
    assert (again.status_code, again.json()) == (200, first.json()), again.text
    assert len(_audited(site)) == audited + 1 and len(_records(site)) == records + 1
    # A real change beside the block is still sent, once.
    renamed_too = {"ref": "R1", "name": "张三", "blocked": True}
    renamed = client.post("/api/residents", json=renamed_too, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert _audited(site)[audited + 1 :] == ["resident.upsert"]
