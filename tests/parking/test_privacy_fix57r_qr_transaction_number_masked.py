"""Review 57r: a292d88 masked every run of 7+ digits in a 开闸 reason as a phone or ID number. A
guard who lets out by hand a car whose driver paid by WeChat on his phone types the transaction number
(微信支付单号 4200001234202611251234567890, 28 digits) as the proof: it is stored, answered and sent
up as ************************7890, though the same number taken as a payment's receipt goes up in
clear (docs/guard-app.md: the receipt is "a QR payment's transaction number"). The accountant
cannot find the payment in the merchant platform. No phone (11) or ID number (15/18) is 28 digits."""

from __future__ import annotations

from collections.abc import Callable

from gateway.privacy import mask_numbers_in
from gateway.runtime.gateway import Gateway
from tests.parking.test_shift_fix57q_phone_in_reasons import RELAY
from tests.parking.test_shift_handover_api import H, M

WECHAT = "4200001234202611251234567890"  # 微信支付 transaction number, 28 digits
ALIPAY = "2026112522001412345678901234"  # 支付宝 trade number, 28 digits


def test_transaction_numbers_are_not_phone_numbers() -> None:
    assert WECHAT in mask_numbers_in(f"扫码已付 微信支付单号{WECHAT}")
    assert ALIPAY in mask_numbers_in(f"支付宝交易号 {ALIPAY}")
    assert "13812345678" not in mask_numbers_in("业主电话13812345678确认")  # still masked


def test_a_qr_transaction_number_in_an_open_by_hand_reason_is_kept(make_gw: Callable[..., Gateway]) -> None:
    from gateway.core import Presented
    from tests.parking.conftest import T0
    from tests.parking.test_report_figures import Clock, serving

    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        for lane, at in (("car-in", T0), ("car-out", T0 + 2 * H)):
            clock.at = at
            seen = Presented(lane, "plate", "苏E40002", 0.97, at, "cam")
            gw.on_worker(lambda _, seen=seen: gw.handle(seen)).result(10)
        clock.at = T0 + 2 * H + M
        opened = client.post(
            "/api/lanes/car-out/open", headers=auth, json={"reason": f"司机手机扫码已付 单号{WECHAT}"}
        )
        assert opened.status_code == 200, opened.text
        assert WECHAT in opened.json()["reason"], opened.json()["reason"]
        up = gw.on_worker(
            lambda c: c.execute(
                "SELECT count(*) FROM outbox WHERE payload LIKE ?", (f"%{WECHAT}%",)
            ).fetchone()[0]
        ).result(10)
        assert up >= 1, "the centre never gets the transaction number the guard typed"
