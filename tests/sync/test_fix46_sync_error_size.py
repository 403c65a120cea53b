"""A wrong push whose bad values are large is still answered on `sync/error`: its reply is cut to
fit in one MQTT message, never set aside as too large (docs/mqtt.md: malformed messages get an
error reply)."""

from __future__ import annotations

import json
from typing import Any

from sync_helpers import wait_for
from test_sync_downlink import Site, site  # noqa: F401  (site: a fixture)

from gateway.sync.messages import QUOTED_CHARS
from gateway.sync.replies import fit


def answered(site: Site, code: str) -> dict[str, Any]:  # noqa: F811
    """The sync_error the centre got; the outbox's set-aside rows named if it got none."""

    def reply() -> dict[str, Any] | None:
        set_aside = site.rows("SELECT seq, quarantined FROM outbox WHERE quarantined IS NOT NULL")
        assert not set_aside, f"the outbox set the sync_error aside: {set_aside}"
        return next((e for e in site.upstream("/sync/error") if e["code"] == code), None)

    return wait_for(f"a `{code}` reply on sync/error", reply)


def test_a_large_wrong_shaped_delta_is_answered_on_sync_error(site: Site) -> None:  # noqa: F811
    """A delta whose `version` is a long text (valid JSON, wrong shape) gets its `sync/error`
    reply, naming the value cut short; it repeated the whole 300 kB text, was over
    max_message_bytes and was set aside: the centre heard nothing and the guards got an alarm."""
    body = {"v": 1, "type": "delta", "version": "12" * 150_000, "base": 11, "upsert": [], "delete": []}
    site.central.publish("sync/delta", json.dumps(body).encode())
    error = answered(site, "malformed")
    assert error["message"].startswith("version '1212")
    assert error["message"].endswith("is not an integer 1..9223372036854775807")
    assert len(error["message"]) < QUOTED_CHARS + 60


def test_a_delta_whose_problems_are_large_is_answered_on_sync_error(site: Site) -> None:  # noqa: F811
    """Entries with 120 kB plates are refused `invalid`, each problem quoting its plate (as a CSV
    import's does): the problems are cut, so that the reply fits in one message."""
    plates = [chr(ord("A") + i) * 120_000 for i in range(3)]
    site.delta(1, 0, upsert=[{"kind": "vehicle", "plate": p, "resident": "R1"} for p in plates])
    error = answered(site, "invalid")
    assert len(error["problems"]) == 3
    assert all(problem.startswith(f"entry {i} (vehicle ") for i, problem in enumerate(error["problems"]))
    assert len(json.dumps(error, ensure_ascii=False).encode()) <= site.gw.site.config.mqtt.max_message_bytes


def test_fit_cuts_the_texts_of_a_list() -> None:
    """A sync error's problems are a list of texts: fit cuts them too, the longest first."""
    error = {"code": "invalid", "message": "delta 2 refused", "problems": ["a" * 1000, "b" * 10, "c" * 500]}
    fitted = fit(error, 400)
    assert len(json.dumps(fitted, ensure_ascii=False).encode()) <= 400
    assert fitted["problems"][0].startswith("aaa") and fitted["problems"][0].endswith("…")
    assert fitted["problems"][1] == "b" * 10
    assert fitted["message"] == "delta 2 refused"
