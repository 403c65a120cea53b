"""One car, one passage (docs/parking.md) counts real seconds: on the night the clocks go back (an
estate abroad, on Europe/Berlin) 02:30 comes twice, an hour apart, and a card tapped at the second
02:30 is not one more look at the car the camera let in at the first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import parking_toml, seed
from tests.rush_helpers import RELAYS

BERLIN = ZoneInfo("Europe/Berlin")
CAR = "皖B33333"  # R2's car on its own slot B002
CARD = "0012345678"  # R2's card for that car
OWN = "0055443322"  # R2's own card, for no car
SUMMER = datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN)  # the first 02:30
WINTER = datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=BERLIN)  # an hour later, the clocks gone back


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    text = parking_toml(tmp_path / "data", extra=RELAYS)
    text = text.replace('anti_passback = "soft"', 'anti_passback = "hard"')
    text = text.replace('name = "停车测试小区"\n', 'name = "停车测试小区"\ntimezone = "Europe/Berlin"\n', 1)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    import_csv(cfg, [write_csv(tmp_path / "c.csv", f"card,resident_ref,plate\n{CARD},R2,{CAR}\n")])
    gateway = Gateway(cfg)
    yield gateway
    gateway.conn.close()


def test_the_cars_card_tapped_an_hour_later_is_not_the_same_passage(gw: Gateway) -> None:
    """The camera lets R2's car in at 02:30 summer time; at 02:30 winter time, an hour later, its
    card is tapped at the same entrance (handed back to the car behind): anti-passback refuses it,
    as on any other night, rather than taking it for the driver's tap as the car rolled in."""
    came = gw.handle(Presented("car-in", "plate", CAR, 1.0, SUMMER, "car-in-camera"))
    assert came.admitted
    tapped = gw.handle(Presented("car-in", "card", CARD, 1.0, WINTER, "car-in-reader"))
    assert (tapped.reason, tapped.flags) == ("anti_passback", ()), (tapped.reason, tapped.flags)


def test_the_residents_own_card_tapped_an_hour_later_is_not_taken_for_the_car(gw: Gateway) -> None:
    """R2's own card, which names no car, tapped at the entrance an hour after the camera let R2's
    car in there (02:30 winter time after 02:30 summer time) is decided as R2's, not as that car again."""
    import_csv(
        gw.site.config,
        [write_csv(gw.site.config.site.data_dir / "own.csv", f"card,resident_ref\n{OWN},R2\n")],
    )
    assert gw.handle(Presented("car-in", "plate", CAR, 1.0, SUMMER, "car-in-camera")).admitted
    tapped = gw.handle(Presented("car-in", "card", OWN, 1.0, WINTER, "car-in-reader"))
    assert "again" not in tapped.flags, (tapped.reason, tapped.flags, tapped.subject)
