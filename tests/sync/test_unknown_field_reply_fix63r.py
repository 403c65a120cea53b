"""A centre whose encoder adds a top-level key (`sent_at`) to each delta is refused since fix 63b.
Until fix 63r the refusal named the key in `message` only, `problems` empty, where the centre's
code reads `problems` for every refusal; and README's *Upgrading*, which lists what a new version
refuses that an old one took, did not say so."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site, directory_v1

from gateway.config import SiteConfig

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    with _site(broker, sync_cfg(broker.port)) as s:
        yield s


def test_the_refusal_of_an_extra_key_is_in_its_problems(site: Site) -> None:
    site.snapshot(1, directory_v1())
    site.wait_applied(1)
    body = {
        "v": 1,
        "type": "delta",
        "version": 2,
        "base": 1,
        "sent_at": "2026-11-26T08:00:00+08:00",
        "upsert": [],
        "delete": [{"kind": "card", "card": "C0003"}],
    }
    site.central.publish("sync/delta", json.dumps(body).encode())
    (error,) = wait_for("the sync_error", lambda: site.upstream("/sync/error"), 30)
    assert error["code"] == "malformed" and error["version"] == 2, error
    assert any("sent_at" in p and "delete" in p for p in error["problems"]), (
        f"the centre reads problems and finds {error['problems']!r} (message: {error['message']!r})"
    )
    assert site.applied() == 1


def test_readme_upgrading_names_the_stricter_downlink() -> None:
    text = README.read_text(encoding="utf-8")
    upgrading = re.search(r"\*\*Upgrading\.\*\*(.*?)\n\n", text, re.S).group(1)
    assert "sent_at" in upgrading and "malformed" in upgrading, (
        "README Upgrading should say that a snapshot part or delta with a field beyond its own is "
        "refused malformed since fix 63b, so a centre adding e.g. sent_at drops it before the upgrade"
    )
