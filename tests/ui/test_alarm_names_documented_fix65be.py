"""Review 65 Rbe: docs/guard-app.md (Alarms) lists the alarms by the names the page gives them, so a
guard who sees one can look up what it means and what to do. 导入未完成 (import_unfinished, a
`gateway import` cut short) was added to the gateway without being listed there."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.web.i18n import TEXTS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_each_alarm_kind_is_named_on_the_guard_pages_doc() -> None:
    mqtt = (DOCS / "mqtt.md").read_text(encoding="utf-8")
    kinds = {k for k in re.findall(r"^\| `([a-z_]+)` \|", mqtt, re.M) if f"alarm.{k}" in TEXTS}
    assert {"device_offline", "clock_stepped", "import_unfinished"} <= kinds, kinds
    (alarms,) = [
        line
        for line in (DOCS / "guard-app.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| 报警 Alarms `/alarms`")
    ]
    missing = sorted(f"{TEXTS[f'alarm.{k}'][0]} ({k})" for k in kinds if TEXTS[f"alarm.{k}"][0] not in alarms)
    assert not missing, f"alarms the page names that docs/guard-app.md does not list: {missing}"
