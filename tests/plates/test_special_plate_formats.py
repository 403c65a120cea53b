"""Special plates on the road that the camera was never trained on (review s43special): the army's
(VA·12345), the armed police's (WJ京·12345) and fire and rescue's (苏A·1234应急). Registered,
imported, typed by a guard and sent by the centre like any other plate (docs/plates.md, Grammar)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from drivers.displays.serial_text import display_bytes
from gateway.core.credentials import canonical
from gateway.runtime.gateway import Gateway
from gateway.store.csv_rows import RowError, plate_value
from gateway.sync.messages import encode_snapshot
from gateway.sync.service import SyncService
from plates.decode import decode, log_softmax
from plates.grammar import ALPHABET, FORMATS, SLOTS, formats_of, is_plate
from plates.matcher import CONFUSABLE_GROUPS, PlateMatcher
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving
from tests.sync.conftest import SITE, broker, brokers, running, sync_cfg  # noqa: F401  (fixtures)
from tests.sync.sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening


def peaked(text: str) -> np.ndarray:
    """Logits that spell text, one clear character per column, blanks between."""
    logits = np.zeros((24, len(ALPHABET) + 1), np.float32)
    logits[:, 0] = 10.0
    for i, ch in enumerate(text):
        logits[1 + 2 * i, 0], logits[1 + 2 * i, ALPHABET.index(ch) + 1] = 0.0, 10.0
    return logits


SPECIAL = ("VA12345", "KA12345", "WJ京12345", "WJ粤1234X", "苏A1234应急")


@pytest.mark.parametrize(
    ("text", "formats"),
    [
        ("VA12345", ["military"]),
        ("KA12345", ["military"]),
        ("AA12345", ["military"]),  # A: a unit of the Central Military Commission
        ("VI12345", []),  # no I on plates
        ("VA1234", []),
        ("VA1234X", []),  # army serials are digits
        ("WJ京12345", ["armed_police"]),
        ("WJ粤1234X", ["armed_police"]),  # the service's letter last (X: fire)
        ("WJ12345", ["military", "armed_police"]),  # the headquarters' cars carry no province
        ("WJ京1234", []),
        ("WJ京X1234", []),
        ("苏A1234应急", ["emergency"]),
        ("琼X1234应急", ["emergency"]),
        ("苏A123应急", []),
        ("苏AAB1C应急", []),  # the cap on the serial's letters holds here too
        ("苏A1234急", []),
    ],
)
def test_special_formats(text: str, formats: list[str]) -> None:
    assert [f.name for f in formats_of(text)] == formats
    assert is_plate(text) == bool(formats)


def test_the_camera_reads_none_of_them() -> None:
    """The model never saw a letter where the province belongs, a province third, or 应急: no
    SLOTS for the decoder or the renderer, and a reading spelling one is not offered as it is."""
    special = {f.name for f in FORMATS if not f.camera}
    assert special == {"military", "armed_police", "emergency"}
    assert not special & set(SLOTS)
    for text in ("VA12345", "WJ京12345"):  # all their characters are in the network's alphabet
        d = decode(log_softmax(peaked(text)))
        assert d is None or (d.text != text and d.confidence < 0.05)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("VA·12345", "VA12345"), ("wj京 1234x", "WJ京1234X"), ("苏A·1234应急", "苏A1234应急")],
)
def test_registered_imported_and_matched(typed: str, stored: str) -> None:
    assert canonical("plate", typed) == stored
    assert plate_value(typed) == stored
    assert PlateMatcher([stored]).match(typed).how == "exact"


def test_an_emergency_serial_with_three_letters_is_named_so_in_an_import() -> None:
    with pytest.raises(RowError, match="more than 2 letters"):
        plate_value("苏AAB1C应急")


def test_no_camera_reading_is_a_look_alike_of_one() -> None:
    """plate_match = "confusable": one look-alike character from a special plate is never a plate
    the camera reads, so a reading of another car is never taken for one."""
    for plate in SPECIAL:
        for i, ch in enumerate(plate):
            for group in (g for g in CONFUSABLE_GROUPS if ch in g):
                for other in group.replace(ch, ""):
                    near = plate[:i] + other + plate[i + 1 :]
                    assert not [f for f in formats_of(near) if f.camera], (plate, near)


@pytest.mark.parametrize("plate", SPECIAL)
def test_the_8_character_led_shows_the_plate_whole(plate: str) -> None:
    shown = display_bytes(["临时车 请入场", plate], "gb2312", "crlf", width=8)
    assert shown.endswith(f"\r\n{plate}\r\n".encode("gb2312"))


Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def app(make_gw: Callable[..., Gateway]) -> Iterator[Served]:  # noqa: F811
    with serving(make_gw()) as served:
        yield served


def test_guard_types_a_military_plate_at_the_entrance(app: Served) -> None:
    """A PLA car (军车, two letters and five digits: VA·12345) stops at the barrier of an estate
    that lets strangers in as temporary cars. The guard taps 输入车牌 and types the plate off the
    car: the gateway answered 422 "is not a Chinese licence plate", so the car could only be let
    in by hand, unbilled and unrecorded as a vehicle. It is decided like any other plate (a
    temporary car, its stay opened for billing)."""
    gw, client, auth = app
    r = client.post("/api/lanes/car-in/plate", headers=auth, json={"plate": "VA·12345"})
    assert r.status_code == 200, r.text
    assert r.json()["admitted"]
    stays = gw.conn.execute(
        "SELECT count(*) FROM stays WHERE plate = 'VA12345' AND exited_at IS NULL"
    ).fetchone()[0]
    assert stays == 1


def test_visitor_in_an_armed_police_car_can_be_registered(app: Served) -> None:
    """A visitor comes in an armed-police car (武警, WJ plates: WJ京·12345). The guard fills in the
    访客登记 form with the car's plate: registering was refused, the plate "not a Chinese licence
    plate". A real plate on the road registers like any other."""
    _, client, auth = app
    body = {"name": "王五", "host_building": "3栋", "host_unit": "2单元", "plate": "WJ京·12345"}
    r = client.post("/api/visitors", headers=auth, json=body)
    assert r.status_code == 201, r.text


def test_resident_emergency_management_car_can_be_registered(app: Served) -> None:
    """A resident drives a fire-and-rescue car home (应急 plate, 苏A·1234应急, issued since 2018).
    The admin adds it to the resident's cars: it was refused as "not a Chinese licence plate", so
    the camera could never let it in on the resident's slot."""
    gw, client, auth = app
    resident = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
    r = client.post("/api/vehicles", headers=auth, json={"plate": "苏A1234应急", "resident_id": resident})
    assert r.status_code == 200, r.text


@dataclass
class Centre:
    gw: Gateway
    service: SyncService
    central: Central
    sub: Subscriber

    def snapshot(self, version: int, entries: list[dict[str, Any]]) -> None:
        for part in encode_snapshot(version, entries, 4):
            self.central.publish("sync/snapshot", part)

    def errors(self) -> list[dict[str, Any]]:
        return self.sub.payloads("/sync/error")

    def applied(self) -> int:
        return int(self.gw.conn.execute("SELECT applied_version FROM sync_state").fetchone()[0])


@pytest.fixture
def centre(broker: Mosquitto, sync_cfg: Callable[..., Any]) -> Iterator[Centre]:  # noqa: F811
    sub = Subscriber(broker, [f"estate/{SITE}/sync/#"], client_id="central-watch")
    central = Central(broker, SITE)
    try:
        with running(sync_cfg(broker.port)) as (gw, service):
            wait_listening(service)
            yield Centre(gw, service, central, sub)
    finally:
        central.close()
        sub.close()


def test_centre_register_with_a_residents_military_car_is_applied(centre: Centre) -> None:
    """The property company's register lists, among its residents' cars, one officer's army car
    (军车 KA·12345: two letters and five digits). The gateway refused the whole snapshot as
    invalid ("not a Chinese licence plate"): by the all-or-nothing rule not one resident, card or
    slot of the estate reached the box, day after day, for a real car on the road. The snapshot
    is applied (the plate stored and matched like any other)."""
    entries = [
        {"kind": "resident", "ref": "R3", "building": "1", "unit": "2", "name": "住户R3"},
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R3"},
        {"kind": "vehicle", "plate": "KA12345", "resident": "R3"},
    ]
    centre.snapshot(1, entries)
    wait_for(
        "snapshot 1 applied or refused",
        lambda: centre.service.directory.versions.applied == 1 or centre.errors(),
        15,
    )
    assert centre.errors() == [], centre.errors()[0]["problems"]
    assert centre.applied() == 1
    stored = centre.gw.conn.execute("SELECT value FROM credentials WHERE kind = 'plate'").fetchall()
    assert ("KA12345",) in stored
