"""A booth change that goes round through the centre (reviewer 60k). An admin adds 张三丰 at the booth;
his `registry` record goes up with the name masked (张**) and the phone masked (138****8000), as
docs/mqtt.md says. The centre owns the register, takes him in and lists him in its next snapshot
with what it was told (it must: a snapshot removes what it leaves out). The gateway took 张** as his
name for good, and 138****8000 as a clear number (the hash of 1388000): the admin's page showed
张** and 138****8000, and the guard's lookup by his name or by his real phone found nobody."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, directory_v1, resident

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.store.accounts import create_token


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def _admin(site: Site) -> dict[str, str]:
    made = site.gw.on_worker(lambda c: create_token(c, site.gw.now(), "office", "admin1", "admin", None))
    _, token = made.result(10)
    return {"Authorization": f"Bearer {token}"}


def _as_the_centre_took_it(site: Site, ref: str) -> dict[str, Any]:
    """The resident entry a centre makes of the booth's record: every field it was sent, as sent."""
    sent = wait_for(
        "the registry record",
        lambda: [x for x in site.upstream("/events/registry") if x.get("ref") == ref],
    )[-1]
    fields = ("building", "unit", "room", "name", "phone")
    return {"kind": "resident", "ref": ref, **{k: sent[k] for k in fields if sent.get(k) is not None}}


def _names(client: TestClient, auth: dict[str, str], q: str) -> list[str]:
    r = client.get("/api/lookup", params={"q": q}, headers=auth)
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()]


def test_a_booth_resident_echoed_masked_by_the_centre_keeps_his_name_and_phone(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    auth = _admin(site)
    with TestClient(create_app(site.gw)) as client:
        r = client.post(
            "/api/residents",
            json={
                "ref": "R9",
                "building": "1",
                "unit": "2",
                "room": "902",
                "name": "张三丰",
                "phone": "13812348000",
            },
            headers=auth,
        )
        assert r.status_code == 200, r.text
        taken = _as_the_centre_took_it(site, "R9")
        assert (taken["name"], taken["phone"]) == ("张**", "138****8000"), taken
        site.snapshot(2, directory_v1() + [taken])
        site.wait_applied(2)
        assert _names(client, auth, "张三丰") == ["张三丰"]
        assert _names(client, auth, "13812348000") == ["张三丰"]
        # A later snapshot with the clear name (the centre's office typed it) is taken as ever.
        site.snapshot(3, directory_v1() + [{**taken, "name": "张三峰"}])
        site.wait_applied(3)
        assert _names(client, auth, "张三峰") == ["张三峰"]
        assert _names(client, auth, "13812348000") == ["张三峰"]
    assert site.rows("SELECT phone_masked FROM residents WHERE ref = 'R9'") == [("138****8000",)]

    # The masked phone is said in the sync result, not taken silently.
    def applied() -> dict[int, Any]:
        return {e["version"]: e["counts"] for e in site.upstream("/events/sync_applied")}

    # each record reaches the centre as the outbox drains, after the apply (a loaded CI machine)
    counts = wait_for("the sync_applied records", lambda: (found := applied()) and 2 in found and found)
    assert counts[2]["masked_phones"] == 1
    assert "masked_phones" not in counts[1]


def test_a_masked_phone_for_a_resident_new_here_is_no_number_and_the_snapshot_goes_in(site: Site) -> None:
    """A resident the gateway does not hold, his phone given masked: nothing to keep, so none is
    stored (no hash of 1388000 that a stranger's 138-8000 would find), and the rest of the snapshot
    is applied, the masked phone counted in its sync_applied record."""
    site.snapshot(1, directory_v1() + [resident("R8", name="李*", phone="138****8000")])
    site.wait_applied(1)
    assert site.rows("SELECT name, phone_masked, phone_hash FROM residents WHERE ref = 'R8'") == [
        ("李*", "", "")
    ]
    got = wait_for("sync_applied", lambda: site.upstream("/events/sync_applied"))
    assert got[0]["counts"]["masked_phones"] == 1
    assert not site.upstream("/sync/error")


def test_a_delta_echoing_a_booth_edit_masked_keeps_the_name_and_phone(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    auth = _admin(site)
    with TestClient(create_app(site.gw)) as client:
        r = client.post(
            "/api/residents",
            json={"ref": "R2", "name": "欧阳娜娜", "phone": "+86 139 1234 5678"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        taken = _as_the_centre_took_it(site, "R2")
        site.delta(2, 1, upsert=[{**resident("R2"), **taken}])
        site.wait_applied(2)
        assert _names(client, auth, "欧阳娜娜") == ["欧阳娜娜"]
        assert _names(client, auth, "13912345678") == ["欧阳娜娜"]
