"""Every record type the gateway sends upstream has its schema in docs/mqtt.md: the centre builds
its figures from what that page says each record holds (a `stay` and a `patrol` record went up
with none)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# enqueue(conn, "type", ...) anywhere in the service, the call split over lines or not.
_SENT = re.compile(r"\benqueue\(\s*\w+,\s*\"([a-z_]+)\"")
# A schema paragraph opens with the type in backticks: "`stay` (`events/stay`): ..." or "`sync_applied`: ...".
_DOCUMENTED = re.compile(r"^`([a-z_]+)`(?: \(`[a-z_/]+`\))?:", re.M)


def test_each_record_type_sent_upstream_is_documented() -> None:
    sent = {t for f in (ROOT / "gateway").rglob("*.py") for t in _SENT.findall(f.read_text(encoding="utf-8"))}
    assert {"access", "stay", "charge", "payment"} <= sent, sent  # the scan finds the calls
    documented = set(_DOCUMENTED.findall((ROOT / "docs" / "mqtt.md").read_text(encoding="utf-8")))
    missing = sorted(sent - documented)
    assert not missing, f"sent upstream with no schema in docs/mqtt.md: {missing}"
