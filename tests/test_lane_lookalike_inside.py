"""plate_match = "confusable": a plate nobody registered may be read as the one registered plate a single
look-alike character away (the camera's doubt). Never for a car recorded inside under the plate as read:
a stranger's car 苏E12345 whose plate the guard typed at the entry is read exactly at the exit, and must
pay and leave as itself, not go out free as the resident's 苏E1234S with its own stay left open."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.core import TYPED_BY, Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML, registered_plates_site

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


def _gateway(tmp_path: Path) -> Gateway:
    return registered_plates_site(
        tmp_path, "苏E1234S,R1\n", plate_match="confusable", lanes=("car-in", "car-out"), extra=TARIFF_TOML
    )


def _open_stays(gw: Gateway) -> list[str]:
    return [r[0] for r in gw.conn.execute("SELECT subject FROM stays WHERE exited_at IS NULL")]


def test_a_car_recorded_inside_is_not_taken_for_a_lookalike_at_the_exit(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    typed = gw.handle(Presented("car-in", "plate", "苏E12345", 1.0, T0, f"{TYPED_BY}guard1"))
    assert (typed.reason, typed.subject) == ("temporary", "plate:苏E12345")
    out = gw.handle(
        Presented("car-out", "plate", "苏E12345", 0.97, T0 + timedelta(hours=5), "car-out-camera")
    )
    assert (out.reason, out.subject) == ("payment_due", "plate:苏E12345"), out.flags
    assert out.fee_fen > 0 and "lookalike" not in out.flags
    assert _open_stays(gw) == ["plate:苏E12345"]  # it is still inside until it pays and leaves


def test_a_lookalike_of_a_plate_deleted_since_is_read_as_itself(tmp_path: Path) -> None:
    """The look-alike index is rebuilt every half minute: a plate deleted meanwhile names nobody."""
    gw = _gateway(tmp_path)
    came = gw.handle(Presented("car-in", "plate", "苏E12345", 0.97, T0, "car-in-camera"))
    assert "lookalike" in came.flags  # the index knows the resident's 苏E1234S
    gw.conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = '苏E1234S'")
    again = gw.handle(
        Presented("car-out", "plate", "苏E12345", 0.97, T0 + timedelta(minutes=5), "car-out-camera")
    )
    assert "lookalike" not in again.flags and again.subject == "plate:苏E12345"


def test_a_lookalike_let_out_and_decided_again_is_let_out_again_as_the_same_car(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    at = T0 + timedelta(hours=1)
    first = gw.handle(Presented("car-out", "plate", "苏E12345", 0.97, at, "car-out-camera"))
    assert first.admitted and "lookalike" in first.flags
    again = gw.handle(
        Presented(
            "car-out", "plate", "苏E12345", 0.97, at + timedelta(seconds=15), "car-out-camera", again=True
        )
    )
    assert (again.admitted, again.reason, again.subject) == (True, first.reason, first.subject)
    assert again.flags == ("again", "lookalike", "read:苏E12345")
