"""Review 61c: the centre acknowledging an alarm this box never raised, or one retention has
deleted, naming the stream as docs/mqtt.md asks, was told the alarm was another database's (a box
replaced or restored): its operator went looking for a replaced box that never was."""

from __future__ import annotations

from test_centre_acknowledges_alarm import acknowledge, forced_open
from test_sync_commands import site  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site


def test_an_alarm_never_raised_here_is_not_said_to_be_another_boxs(site: Site) -> None:  # noqa: F811
    forced_open(site)
    (alarm_id,) = site.rows("SELECT max(id) FROM alarms")[0]
    for stream in ("", "deadbeef"):
        reply = acknowledge(site, {"alarm_id": str(alarm_id + 100), "alarm_stream": stream})
        assert (reply["ok"], reply["code"]) == (False, "not_found"), reply
        assert "another database" not in reply["fix"], reply
        assert "retention" in reply["fix"], reply
    # One this box holds under another stream is the replaced box's, as before.
    reply = acknowledge(site, {"alarm_id": str(alarm_id), "alarm_stream": "deadbeef"})
    assert (reply["ok"], reply["code"]) == (False, "not_found"), reply
    assert "another database" in reply["fix"], reply
