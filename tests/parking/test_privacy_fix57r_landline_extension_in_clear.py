"""Review 57r: a landline with its extension (010-65123456-8001, as Chinese offices and homes write it)
typed in a reason is kept whole in clear: privacy.mask_numbers_in takes `8 digits-dash-4+` for a
gateway receipt number (20261125-0001) without checking that the 8 digits are a date, so the
phone number goes upstream and into the audit trail as typed (REQUIREMENTS *Privacy*)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.privacy import mask_numbers_in
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import show
from tests.parking.test_shift_handover_api import H, M, booth

LANDLINE = "65123456"


@pytest.mark.parametrize("typed", ["业主座机010-65123456-8001确认", "物业电话65123456-8001说车已开走"])
def test_a_landline_with_extension_is_masked(typed: str) -> None:
    assert LANDLINE not in mask_numbers_in(typed)
    # the receipt numbers the gateway makes stay readable
    assert mask_numbers_in("收据20261125-0001") == "收据20261125-0001"


def test_a_landline_with_extension_in_a_stay_close_reason_never_goes_up_in_clear(
    make_gw: Callable[..., Gateway],
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += M
        show(gw, "car-in", "苏E40001", gw.now() - 2 * H)
        stays = client.get("/api/parking/stays", headers=token).json()
        (stay,) = [s for s in stays if s["plate"] == "苏E40001"]
        closed = client.post(
            f"/api/parking/stays/{stay['stay_id']}/close",
            headers=token,
            json={"reason": f"车主来电 010-{LANDLINE}-8001 说车昨晚已开走"},
        )
        assert closed.status_code == 200, closed.text

        def read(c):  # type: ignore[no-untyped-def]
            up = c.execute("SELECT topic FROM outbox WHERE payload LIKE ?", (f"%{LANDLINE}%",)).fetchall()
            au = c.execute("SELECT detail FROM audit WHERE detail LIKE ?", (f"%{LANDLINE}%",)).fetchall()
            return [r[0] for r in up], [r[0] for r in au]

        upstream, audit = gw.on_worker(read).result(10)
        assert upstream == [] and audit == [], f"in clear upstream: {upstream}; audit: {audit}"
