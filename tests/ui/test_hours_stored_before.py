"""Hours stored before version 38 with an end equal to their start (08:00-08:00) were taken for a
window open round the clock. Parsing now refuses them, but a card or pass already holding them must
not start refusing everyone as storage_failed after the upgrade: it keeps opening as it did, and
the start names it, masked, with the fix."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.ui.conftest import CARD, bearer, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
SLIP = "08:00-08:00"


def test_a_card_stored_with_a_slip_keeps_opening_and_the_start_names_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    try:

        def as_before_version_38(conn):  # type: ignore[no-untyped-def]
            conn.execute("UPDATE credentials SET hours = ? WHERE value = ?", (SLIP, CARD))
            conn.execute("DELETE FROM config_seen WHERE key = 'hours_end_when_they_start'")

        site.gw.on_worker(as_before_version_38).result(timeout=10)
        at_three = datetime(2025, 3, 31, 3, 0, tzinfo=TZ)
        decided = site.gw.handle(Presented("door", "card", CARD, 1.0, at_three, "test"))
        assert (decided.admitted, decided.reason) == (True, "resident"), decided
    finally:
        site.gw.stop()
    caplog.set_level(logging.ERROR, logger="gateway")
    for start in ("the first start since", "the next start, from the cards found at the first"):
        caplog.clear()
        gw = Gateway(cfg)
        gw.start()
        try:
            said = [r.getMessage() for r in caplog.records if "end when they start" in r.getMessage()]
            assert len(said) == 1, (start, said)
            assert CARD not in said[0] and CARD[-4:] in said[0] and "08:00-18:00" in said[0], said[0]
        finally:
            gw.stop()


def test_a_pass_ended_long_ago_with_a_slip_is_not_named_at_every_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A crew's pass stored with 08:00-08:00 that ended long ago opens nothing: the start does not
    name it, while one still running is named."""
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    crew = {"name": "赵装修", "company": "好家装饰", "phone": "13711112222", "host_building": "3栋"}
    try:
        with TestClient(create_app(site.gw)) as client:
            ids = []
            for _ in range(2):
                body = {**crew, "host_unit": "2单元", "valid_from": "2099-03-01", "valid_to": "2099-12-31"}
                r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])

        def as_before_version_38(conn):  # type: ignore[no-untyped-def]
            conn.execute("UPDATE passes SET hours = ?", (SLIP,))
            conn.execute(
                "UPDATE passes SET valid_to = '2025-04-01T00:00:00.000000+00:00' WHERE id = ?", (ids[0],)
            )
            conn.execute("DELETE FROM config_seen WHERE key = 'hours_end_when_they_start'")

        site.gw.on_worker(as_before_version_38).result(timeout=10)
    finally:
        site.gw.stop()
    caplog.set_level(logging.ERROR, logger="gateway")
    gw = Gateway(cfg)
    gw.start()
    gw.stop()
    said = [r.getMessage() for r in caplog.records if "end when they start" in r.getMessage()]
    assert [s.split(" has ")[0] for s in said] == [f"pass {ids[1]}"], said
