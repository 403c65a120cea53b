"""The daily report's parking sums, each held by a test that fails on a one-token change of
gateway/parking/report.py _parking that every other report test lets pass: what is counted
(payments, the paying stays, every way of paying, the host's validations) and where a period
begins and ends (a row at its first instant is its own, not the day before's; a charge settled at
its last instant is still unpaid at its end). Periods run from 06:00 (report_of)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
PERIOD_START = T0.replace(hour=6)  # Monday 3 March 2025, 06:00 in Shanghai: T0's period begins
PERIOD_END = PERIOD_START + 24 * H  # and ends at 06:00 on Tuesday
DAY_BEFORE = T0.date() - timedelta(days=1)


def report_of(gw: Gateway, day: date, built_at: datetime) -> dict[str, Any]:
    """The parking figures of `day`'s report (periods from 06:00) as built at `built_at`."""
    report = build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=day,
        hour=6,
        tz=gw.site.tz,
        built_at=built_at,
    )
    return dict(report["parking"])


def test_the_report_counts_each_payment_taken_not_each_way_of_paying(gw: Gateway) -> None:
    """Two strangers' cars pay cash at the exit on one day: the accountant's report says 2 payments
    (and 14元), not 1 payment because both were cash."""
    show(gw, "car-in", "苏E00001", T0)
    show(gw, "car-in", "苏E00002", T0 + M)
    for plate, at in (("苏E00001", T0 + 90 * M), ("苏E00002", T0 + 91 * M)):
        held = show(gw, "car-out", plate, at)
        assert pay(gw, plate, held.fee_fen, at + M).admitted
    p = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert (p["payments"], p["revenue_fen"]) == (2, 1400), p


def test_the_report_counts_a_visitors_paid_stay_among_the_stays_closed(gw: Gateway) -> None:
    """A visitor's car (billed as visitor parking) and a stranger's (temporary) both leave: the
    report's temporary_stays_closed, the paying stays closed that day, is 2, not 1."""
    add_visitor(gw, "苏E99999")
    show(gw, "car-in", "苏E99999", T0)
    show(gw, "car-in", "苏E00001", T0)
    for plate in ("苏E99999", "苏E00001"):
        out = show(gw, "car-out", plate, T0 + 20 * M)  # inside the free minutes: out free
        assert out.admitted, out.reason
    p = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert p["temporary_stays_closed"] == 2, p


def test_the_revenue_counts_a_fee_paid_by_the_monthly_method(gw: Gateway) -> None:
    """R4's car, its monthly period over since January, parks as a temporary car and its fee (7元)
    is taken at the exit by the third way of paying the lane offers, "monthly" (docs/parking.md:
    cash, qr or monthly). The day's revenue is 7元, as its revenue by method says, not nothing."""
    assert "monthly_expired" in show(gw, "car-in", "皖D55555", T0).flags
    held = show(gw, "car-out", "皖D55555", T0 + 90 * M)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert pay(gw, "皖D55555", 700, T0 + 91 * M, method="monthly").admitted
    p = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert (p["revenue_by_method_fen"]["monthly"], p["payments"]) == (700, 1), p
    assert p["revenue_fen"] == 700, p


def test_the_report_counts_a_hosts_validation(gw: Gateway) -> None:
    """A host confirms the visit of its visitor's car (业主确认, audited stay.validate): the day's
    report counts 1 host validation, which the centre reconciles with the validations it got."""
    add_visitor(gw, "苏E99999")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '苏E99999'").fetchone()[0]
    gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0 + 10 * M)
    assert report_of_t0_day(gw, T0 + 24 * H)["parking"]["host_validations"] == 1


def test_a_car_paying_and_leaving_at_the_periods_first_instant_counts_in_that_period(gw: Gateway) -> None:
    """A stranger's car in at 04:30 is held at the exit at 05:59 (7元) and pays at 06:00 sharp,
    the moment T0's period begins ([06:00, 06:00 next day)). Its payment and its closed stay are
    that period's, not the day before's, and in no case in neither report."""
    show(gw, "car-in", "苏E00001", PERIOD_START - 90 * M)
    held = show(gw, "car-out", "苏E00001", PERIOD_START - M)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert pay(gw, "苏E00001", 700, PERIOD_START).admitted
    exited = gw.conn.execute("SELECT exited_at FROM stays WHERE plate = '苏E00001'").fetchone()[0]
    assert datetime.fromisoformat(exited) == PERIOD_START
    figures = ("temporary_stays_closed", "payments", "revenue_fen")
    before = report_of(gw, DAY_BEFORE, PERIOD_END)
    own = report_of(gw, T0.date(), PERIOD_END)
    assert [before[k] for k in figures] == [0, 0, 0], before
    assert [own[k] for k in figures] == [1, 1, 700], own


def test_a_handover_at_the_periods_first_instant_counts_in_that_period(gw: Gateway) -> None:
    """一位多车: R1's 皖A11111 is on slot B001 from 04:00, its second car 皖A22222 parks in the
    shared spaces at 05:00, and 皖A11111 leaves at 06:00 sharp: the slot is handed over then, the
    first instant of T0's period, and counted in its report, not the day before's."""
    show(gw, "car-in", "皖A11111", PERIOD_START - 2 * H)
    assert "shared_slot" in show(gw, "car-in", "皖A22222", PERIOD_START - H).flags
    assert show(gw, "car-out", "皖A11111", PERIOD_START).admitted
    handed = gw.conn.execute("SELECT handed_over_at FROM stays WHERE plate = '皖A22222'").fetchone()[0]
    assert datetime.fromisoformat(handed) == PERIOD_START
    before = report_of(gw, DAY_BEFORE, PERIOD_END)
    own = report_of(gw, T0.date(), PERIOD_END)
    assert (before["handovers"], own["handovers"]) == (0, 1), (before, own)


def _left_owing_a_reentry_charge(gw: Gateway, plate: str, entered: datetime) -> None:
    """The car's exit read is missed: back in 3 h later, it is charged 11元 for the missed stay
    (policy.reentry = "charge"), unpaid; it leaves unseen again and the admin closes its stay."""
    assert show(gw, "car-in", plate, entered).reason == "temporary"
    assert "already_inside" in show(gw, "car-in", plate, entered + 3 * H + 30 * M).flags
    (stay,) = gw.conn.execute(
        "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", (plate,)
    ).fetchone()
    gw.parking.close_stay(gw.conn, stay, "left unseen", "admin", entered + 5 * H)


def test_a_charge_settled_at_the_periods_last_instant_is_unpaid_at_its_end(
    make_gw: Callable[..., Gateway],
) -> None:
    """Two strangers' cars each leave an 11元 re-entry charge owing on Monday. The booth takes the
    first's at 05:59 on Tuesday, inside Monday's period, and the second's at 06:00 sharp, when
    Tuesday's begins: as things stood at Monday's period end the second was not paid, so Monday's
    report says 11元 unpaid (and 11元 taken), not nothing."""
    gw = make_gw(reentry="charge")
    _left_owing_a_reentry_charge(gw, "苏E00001", T0)
    _left_owing_a_reentry_charge(gw, "苏E00002", T0 + M)
    for plate, at in (("苏E00001", PERIOD_END - M), ("苏E00002", PERIOD_END)):
        paid = gw.parking.prepay(gw.conn, plate, 1100, "cash", "", "booth", at)
        assert len(paid["charges_settled"]) == 1, paid
    settled = [s for (s,) in gw.conn.execute("SELECT settled_at FROM charges ORDER BY id")]
    assert [datetime.fromisoformat(s) for s in settled] == [PERIOD_END - M, PERIOD_END]
    p = report_of(gw, T0.date(), PERIOD_END + H)
    assert (p["charged_fen"], p["revenue_fen"], p["unpaid_fen"]) == (2200, 1100, 1100), p
