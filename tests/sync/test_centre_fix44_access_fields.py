"""docs/mqtt.md is the centre's contract: an `access` record is described by its example and the
paragraphs after it (docs/mqtt.md, *Upstream schemas*). A field the gateway sends that the page never
names is one the centre's developer cannot read."""

from __future__ import annotations

import json
import re
from pathlib import Path

from centre_helpers import ROOT, H, centre

from tests.parking.conftest import T0

DOC = (ROOT / "docs" / "mqtt.md").read_text(encoding="utf-8")


def _access_section() -> str:
    start = DOC.index("`access` (`events/access`)")
    return DOC[start : DOC.index("`pass` (`events/pass`)")]


def test_a_car_held_to_pay_goes_up_with_only_the_fields_docs_mqtt_describes(tmp_path: Path) -> None:
    """苏E12345 in at 09:00, held at car-out at 11:00 for 7元. Its `payment_due` record goes up
    with `"fee_fen": 700` (every access record has `fee_fen`, 0 when nothing is asked): the figure the
    centre needs to answer a driver who says what he was asked, and which docs/mqtt.md neither shows
    in the access example nor names anywhere for an access record (its only `fee_fen` is the
    `closed_by_hand` stay record's)."""
    section = _access_section()
    example = json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))  # type: ignore[union-attr]
    with centre(tmp_path) as c:
        c.look("car-in", "苏E12345", T0)
        held = c.look("car-out", "苏E12345", T0 + 2 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        c.drain()
        record = [r for r in c.records("access") if r["reason"] == "payment_due"][0]
    undocumented = sorted(k for k in record if k not in example and f"`{k}`" not in section)
    assert not undocumented, (
        f"the access record goes up with {[f'{k}={record[k]!r}' for k in undocumented]}, "
        "which docs/mqtt.md's access schema does not describe"
    )
