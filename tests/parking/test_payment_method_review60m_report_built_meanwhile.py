"""A payment's method corrected (改为现金) while the day's report is being built is in the report
(docs/parking.md, *Payment method corrected*). The report's rows are read on a read-only snapshot
and stored afterwards on the decision worker: a correction landing in between (the guard counting
his drawer at the shift change, the report's hour) found no report kept to move the fee in
(`reports_sent_again: []`), then the report was kept and sent with the fee under QR for good, and
a rebuild overwrote the kept report the correction had just moved. Noticed by reviewer 60m.

The revenue by method is counted again in the transaction that stores the report."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

import gateway.parking.operations_reports as operations_reports
from gateway.runtime.gateway import Gateway
from gateway.store.payment_method import correct_method
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_payment_method_api import receipts
from tests.parking.test_shift_handover_api import booth, take
from tests.ui.conftest import GUARD, log_in

H, M = timedelta(hours=1), timedelta(minutes=1)


def _sent(gw: Gateway, day: str) -> list[dict[str, int]]:
    """The revenue by method of each `report` of the day queued for the centre, oldest first."""
    rows = gw.on_worker(
        lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq").fetchall()
    ).result(10)
    reports = [json.loads(payload)["report"] for (payload,) in rows]
    return [r["parking"]["revenue_by_method_fen"] for r in reports if r["day"] == day]


@pytest.mark.parametrize("kept_before", [False, True], ids=["first_build", "rebuild"])
def test_a_method_corrected_while_the_report_is_built_is_in_the_report_kept_and_sent(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    kept_before: bool,
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E80001", method="qr")  # 扫码已付 tapped; the driver paid cash
        receipt = receipts(client)["苏E80001"]
        day = clock["now"].date().isoformat()
        clock["now"] += 24 * H
        if kept_before:
            assert client.post(f"/api/parking/reports/{day}/build", headers=token).status_code == 200

        real = operations_reports.build_report
        told: list[list[Any]] = []

        def built_meanwhile(*args: Any, **kwargs: Any) -> dict[str, Any]:
            body = real(*args, **kwargs)
            # The guard's 改为现金 lands on the worker after the rows were read, before they are stored.
            done = gw.on_worker(
                lambda c: correct_method(
                    c,
                    receipt,
                    "cash",
                    "司机付的现金",
                    by="guard1",
                    admin=False,
                    now=gw.now(),
                    tz=gw.site.tz,
                    max_bytes=gw.site.config.mqtt.max_message_bytes,
                )
            ).result(10)
            told.append(done.reports)
            return body

        monkeypatch.setattr(operations_reports, "build_report", built_meanwhile)
        built = client.post(f"/api/parking/reports/{day}/build", headers=token)
        monkeypatch.undo()
        assert built.status_code == 200, built.text
        assert told == [[date.fromisoformat(day)] if kept_before else []]

        cash = {"cash": fee, "qr": 0, "monthly": 0}
        assert built.json()["parking"]["revenue_by_method_fen"] == cash
        kept = client.get(f"/api/parking/reports/{day}", headers=token).json()["parking"]
        assert (kept["revenue_by_method_fen"], kept["revenue_fen"], kept["payments"]) == (cash, fee, 1)
        assert _sent(gw, day)[-1] == cash  # what the centre has last: cash, as the payment says
        assert gw.operations.reports(clock["now"]) == []  # and nothing left to build again
