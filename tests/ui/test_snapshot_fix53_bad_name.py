"""A snapshot address no file can have is the API's clear 404, not a bare 500 with a traceback in
the journal (review 53a): an encoded NUL byte (Python refuses the path) or a name longer than the
file system allows (the look for the file fails with ENAMETOOLONG)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in


def test_a_snapshot_address_with_a_nul_byte_is_not_found(site: Site, app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        log_in(client, GUARD)
        for path in ("/api/snapshots/a%00b.jpg", "/api/snapshots/2024-01-01/x.jpg%00"):
            r = client.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (path, r.text)
        r = client.get("/api/snapshots/a%00b.jpg", headers=bearer(site.guard_token))
        assert r.status_code == 404, r.text


def test_a_snapshot_name_too_long_for_the_disk_is_not_found(site: Site, app: FastAPI) -> None:
    site.gw.snapshots_dir.mkdir(parents=True, exist_ok=True)  # as on any box that has saved one
    with TestClient(app, raise_server_exceptions=False) as client:
        log_in(client, GUARD)
        r = client.get("/api/snapshots/" + "x" * 300 + ".jpg")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text[:200]
