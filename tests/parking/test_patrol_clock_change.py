"""Patrol rounds on the nights the clocks change (a site in Europe/Berlin).

docs/parking.md, "Patrols": rounds are `every_minutes` of elapsed time apart, so the night the clocks
go back (26 Oct 2025, 03:00 summer time -> 02:00 winter time) has a round at 02:00 twice, each judged
and alarmed on its own; the night they go forward (30 Mar 2025, 02:00 -> 03:00) has none at 02:00.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.core.windows import Window
from gateway.parking.patrol import RouteSpec, Tap, due_times, evaluate
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_toml, seed
from tests.parking.test_operations import PATROL, ops, tap

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)
HOURLY_NIGHT = PATROL.replace('"22:00-02:00"', '"22:00-06:00"').replace(
    "every_minutes = 120", "every_minutes = 60"
)
ROUTE = RouteSpec("night", "", ("cp-a", "cp-b"), Window.parse("22:00-06:00"), H, 45 * M)
BACK = datetime(2025, 10, 25, 21, 0, tzinfo=BERLIN)  # the evening before the clocks go back
FORWARD = datetime(2025, 3, 29, 21, 0, tzinfo=BERLIN)  # the evening before they go forward
SECOND_TWO = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)  # 02:00 winter time, an hour after 02:00 summer time


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    d = tmp_path / "site"
    d.mkdir()
    text = parking_toml(d / "data", extra=HOURLY_NIGHT)
    cfg = parse_config(text.replace("[site]\n", '[site]\ntimezone = "Europe/Berlin"\n', 1), "site.toml")
    seed(cfg, d)
    made = Gateway(cfg)
    yield made
    made.conn.close()


def local(times: list[datetime]) -> list[str]:
    return [t.astimezone(BERLIN).strftime("%H:%M%z") for t in times]


def a_night(gw: Gateway, evening: datetime, skipped: tuple[datetime, ...]) -> dict[str, str]:
    """The guard walks both checkpoints every hour on the hour, 22:00 to 06:00, but at `skipped` (UTC);
    the gateway looks every five minutes until the morning. Returns the rounds on record, by local
    due time."""
    o = ops(gw, started=evening)
    for due in (evening.astimezone(UTC) + k * H for k in range(1, 10)):
        if due not in skipped:
            tap(gw, due + 10 * M, "cp-a")
            tap(gw, due + 20 * M, "cp-b")
    t = evening
    while t < evening + 11 * H:
        o.patrols(t)
        t = (t.astimezone(UTC) + 5 * M).astimezone(BERLIN)
    rows = gw.conn.execute("SELECT due_at, status FROM patrol_rounds ORDER BY due_at")
    return {local([datetime.fromisoformat(d)])[0]: s for d, s in rows}


def missed_alarms(gw: Gateway) -> list[str]:
    return [
        s for (s,) in gw.conn.execute("SELECT source FROM alarms WHERE kind = 'patrol_missed' ORDER BY id")
    ]


def test_the_night_the_clocks_go_back_has_its_0200_round_twice() -> None:
    assert local(due_times(ROUTE, BACK, BACK + 10 * H, BERLIN)) == [
        *("22:00+0200", "23:00+0200", "00:00+0200", "01:00+0200", "02:00+0200"),
        *("02:00+0100", "03:00+0100", "04:00+0100", "05:00+0100"),
    ]


def test_the_night_the_clocks_go_forward_has_no_0200_round() -> None:
    assert local(due_times(ROUTE, FORWARD, FORWARD + 10 * H, BERLIN)) == [
        *("22:00+0100", "23:00+0100", "00:00+0100", "01:00+0100"),
        *("03:00+0200", "04:00+0200", "05:00+0200"),
    ]


def test_taps_in_the_repeated_hour_count_for_the_round_of_their_own_0200() -> None:
    """The guard walks 02:10-02:20 winter time only: the 02:00 summer-time round, closed by then, is
    missed; the 02:00 winter-time round is done in time, not late."""
    taps = [Tap(SECOND_TWO + 10 * M, "cp-a"), Tap(SECOND_TWO + 20 * M, "cp-b")]
    first, second = SECOND_TWO - H, SECOND_TWO.astimezone(BERLIN)
    assert evaluate(ROUTE, first.astimezone(BERLIN), taps, SECOND_TWO + 3 * H).status == "missed"
    assert evaluate(ROUTE, second, taps, SECOND_TWO + 3 * H).status == "done"


def test_the_second_0200_round_of_the_25_hour_night_is_judged_and_its_miss_raised(gw: Gateway) -> None:
    """The guard walks every round but the one due at 02:00 winter time: the centre gets it as missed,
    with a patrol_missed alarm of its own; the other eight rounds are done."""
    got = a_night(gw, BACK, (SECOND_TWO,))
    assert len(got) == 9 and got.pop("02:00+0100") == "missed", got
    assert set(got.values()) == {"done"}
    assert missed_alarms(gw) == ["night@2025-10-26 02:00+0100"]


def test_both_0200_rounds_missed_are_two_alarms_and_other_rounds_keep_their_source(gw: Gateway) -> None:
    """Two rounds read 02:00 that night: each missed one is its own alarm, told apart by its UTC
    offset; a round at any other time keeps the usual `route@YYYY-MM-DD HH:MM` source."""
    a_night(gw, BACK, (SECOND_TWO - H, SECOND_TWO, SECOND_TWO + H))
    assert missed_alarms(gw) == [
        "night@2025-10-26 02:00+0200",
        "night@2025-10-26 02:00+0100",
        "night@2025-10-26 03:00",
    ]
    words = gw.conn.execute("SELECT message FROM alarms WHERE kind = 'patrol_missed' ORDER BY id")
    assert [json.loads(m)["en"] for (m,) in words][1].startswith(
        "patrol 夜间巡更 round due 02:00+0100 missed"
    )


def test_the_night_the_clocks_go_forward_walked_in_full_has_seven_rounds_done(gw: Gateway) -> None:
    """The hour from 02:00 does not exist that night: no round is due in it, none is missed, and
    the round after 01:00 is the one due at 03:00 summer time."""
    got = a_night(gw, FORWARD, ())
    assert list(got) == [
        *("22:00+0100", "23:00+0100", "00:00+0100", "01:00+0100"),
        *("03:00+0200", "04:00+0200", "05:00+0200"),
    ]
    assert set(got.values()) == {"done"} and missed_alarms(gw) == []


def test_rounds_two_hours_apart_keep_their_spacing_across_the_change() -> None:
    """docs/parking.md: every 120 minutes from 22:00, the night the clocks go forward has its later
    rounds an hour off the printed times (03:00 and 05:00), and the next night is back on them."""
    two_hourly = RouteSpec("night", "", ("cp-a",), Window.parse("22:00-06:00"), 2 * H, 45 * M)
    forward_night = local(due_times(two_hourly, FORWARD, FORWARD + 10 * H, BERLIN))
    assert forward_night == ["22:00+0100", "00:00+0100", "03:00+0200", "05:00+0200"]
    next_night = local(due_times(two_hourly, FORWARD + 24 * H, FORWARD + 34 * H, BERLIN))
    assert next_night == ["22:00+0200", "00:00+0200", "02:00+0200", "04:00+0200"]
