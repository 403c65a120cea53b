"""Review 47i: a third-party integrator on the documented HTTP API with an API token (a payment
kiosk, a free-spaces sign, the property company's tools): what the schema, the answers and the
errors promise it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, start_site, stored


def _stay(client: TestClient, site: Site, plate: str, **more: str) -> int:
    made = client.post(
        "/api/parking/stays",
        json={"plate": plate, "reason": "parked before the gateway", **more},
        headers=bearer(site.admin_token),
    )
    assert made.status_code == 200, made.text
    return int(made.json()["stay_id"])


def _error(answer: object) -> dict[str, object]:
    return answer.json()["error"]  # type: ignore[attr-defined,no-any-return]


# 1. The one error shape in the schema.


def test_openapi_documents_the_one_error_shape_for_the_parking_routes(client: TestClient, site: Site) -> None:
    """A kiosk vendor generating a client from /openapi.json is told a bad payment is answered
    `{"detail": [...]}` (FastAPI's HTTPValidationError) and that no 404/409 exists, while the gateway
    answers `{"error": {"code", "message", "fix"}}`; docs/guard-app.md says that shape is documented
    there for every route."""
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/api/parking/lanes/{lane}/pay"]["post"]["responses"]
    refused = client.post(
        "/api/parking/lanes/car-out/pay",
        json={"plate": "苏E12345", "amount_fen": "seven", "method": "cash"},
        headers=bearer(site.guard_token),
    )
    assert refused.status_code == 422 and set(refused.json()) == {"error"}
    documented = responses["422"]["content"]["application/json"]["schema"]["$ref"]
    assert documented.endswith("/ErrorBody"), f"422 documented as {documented}, answered {refused.json()}"
    assert {"404", "409"} <= set(responses), f"documented statuses: {sorted(responses)}"


def test_health_devices_and_events_document_the_error_shape(client: TestClient) -> None:
    """/api/devices and /api/events answer 401 `{"error": ...}` without a login, /api/events a bad
    limit 422 so: the schema said HTTPValidationError, or nothing at all."""
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/health", "/api/devices", "/api/events"):
        responses = paths[path]["get"]["responses"]
        errors = {code: r for code, r in responses.items() if code.startswith("4")}
        refs = {code: r["content"]["application/json"]["schema"]["$ref"] for code, r in errors.items()}
        assert refs and all(ref.endswith("/ErrorBody") for ref in refs.values()), (path, refs)
    assert set(client.get("/api/devices").json()) == {"error"}


# 2. Times in the site's zone.


def test_device_last_seen_is_a_time_in_the_site_zone(client: TestClient, site: Site) -> None:
    """The property dashboard reading GET /api/devices gets `last_seen` as 1795483132.44, a bare
    Unix number, where the README promises every answer of the API gives times in the site's zone
    (as /api/health's own `mqtt.since` does): it should read 2026-...T09:15:57+08:00."""
    devices = client.get("/api/devices", headers=bearer(site.guard_token)).json()
    seen = [d["last_seen"] for d in devices if d["last_seen"] is not None]
    assert seen
    assert all(isinstance(s, str) and s.endswith("+08:00") for s in seen), f"last_seen: {seen}"
    health = client.get("/api/health").json()["devices"]
    in_health = [d["last_seen"] for d in health if d["last_seen"] is not None]
    assert in_health and all(s.endswith("+08:00") for s in in_health), f"/api/health: {in_health}"


# 3. The zone's name.


def test_parking_occupancy_names_the_zone_by_its_name(client: TestClient, site: Site) -> None:
    """A free-spaces sign fed by GET /api/parking/occupancy shows the zone as `main`, its config id,
    in a field called `zone_name`, while /api/occupancy (and the 车位 page) call it 车库, the name
    the site config gives it."""
    public = client.get("/api/parking/occupancy").json()
    guarded = client.get("/api/occupancy", headers=bearer(site.guard_token)).json()["zones"]
    assert {r["zone_name"] for r in guarded} == {"车库"}
    assert {r["zone_name"] for r in public} == {"车库"}, f"zone_name: {[r['zone_name'] for r in public]}"


# 4-6. A reason of spaces is a reason left empty, naming the field.


def test_closing_a_lane_with_a_blank_reason_is_reason_required(client: TestClient, site: Site) -> None:
    """A client closing a lane with a reason of spaces is told 422 `refused` (the general 不允许此操作,
    no `fields`, no `least`), where docs/guard-app.md gives a reason left empty `reason_required`
    naming the field, as the same request with "" gets."""
    empty = client.post("/api/lanes/door/close", json={"reason": ""}, headers=bearer(site.guard_token))
    assert _error(empty)["code"] == "reason_required"
    guard = bearer(site.guard_token)
    for blank in ("   ", "\n\t"):
        answer = client.post("/api/lanes/door/close", json={"reason": blank}, headers=guard)
        assert answer.status_code == 422
        error = _error(answer)
        told = (error["code"], error.get("fields"), error.get("least"))
        assert told == ("reason_required", ["reason"], 1), error
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.close'") == [(0,)]


def test_a_lane_reason_is_stripped_and_kept_on_one_line(client: TestClient, site: Site) -> None:
    """What the blank check changed must keep the reason a guard typed: on one line, its words."""
    closed = client.post(
        "/api/lanes/door/close", json={"reason": " 封闭\n管理 "}, headers=bearer(site.guard_token)
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["reason"] == "封闭 管理"
    assert stored(site, "SELECT detail FROM audit WHERE action = 'lane.close'") == [("封闭 管理",)]


def test_a_stay_is_not_closed_with_a_blank_reason(client: TestClient, site: Site) -> None:
    """An admin's tool closing a stay (已离场: the car's fee let go) with a reason of three spaces is
    answered 200, the stay closed and audited with no reason, while docs/guard-app.md says the reason
    takes at least 2 characters (422 `reason_required`), as recording a car inside checks."""
    stay = _stay(client, site, "苏E22222")
    for blank in ("   ", " x "):
        closed = client.post(
            f"/api/parking/stays/{stay}/close", json={"reason": blank}, headers=bearer(site.admin_token)
        )
        assert closed.status_code == 422, closed.text
        error = _error(closed)
        assert (error["code"], error.get("fields"), error.get("least")) == ("reason_required", ["reason"], 2)
    assert stored(site, "SELECT exited_at FROM stays WHERE id = ?", stay) == [(None,)]


def test_a_stay_closed_keeps_its_reason_stripped(client: TestClient, site: Site) -> None:
    stay = _stay(client, site, "苏E22223")
    closed = client.post(
        f"/api/parking/stays/{stay}/close", json={"reason": "  车已离场  "}, headers=bearer(site.admin_token)
    )
    assert closed.status_code == 200, closed.text
    details = stored(site, "SELECT detail FROM audit WHERE action LIKE 'stay.%' AND detail LIKE '%车已离场%'")
    assert details and all("  车已离场" not in d for (d,) in details), details


def test_reason_required_names_the_reason_field(client: TestClient, site: Site) -> None:
    """A reason of spaces for Block now, and for recording a car inside, is 422 `reason_required`
    without `fields`, while docs/guard-app.md says that error adds "fields", the fields at fault
    (a reason of one character gets ["reason"]): a client form cannot mark the field."""
    blocked = client.post(
        "/api/credentials/block",
        json={"kind": "card", "value": "0A1B2C3D4E", "reason": "  "},
        headers=bearer(site.guard_token),
    )
    inside = client.post(
        "/api/parking/stays", json={"plate": "苏E33333", "reason": "   "}, headers=bearer(site.admin_token)
    )
    for answer in (blocked, inside):
        error = _error(answer)
        assert error["code"] == "reason_required"
        assert error.get("fields") == ["reason"], f"{answer.request.url.path}: {error}"


# 7. A token revoked once.


def test_revoking_a_token_twice_is_already_done(client: TestClient, site: Site) -> None:
    """A dashboard that revokes a token again (a retry, or two admins) gets 204 again and the audit
    trail shows the token revoked twice, where docs/guard-app.md answers a change of state sent again
    409 `already_done` and keeps it on record once."""
    tokens = client.get("/api/tokens", headers=bearer(site.admin_token)).json()
    guard_bot = next(t["id"] for t in tokens if t["name"] == "guard-bot")
    first = client.delete(f"/api/tokens/{guard_bot}", headers=bearer(site.admin_token))
    assert first.status_code == 204
    again = client.delete(f"/api/tokens/{guard_bot}", headers=bearer(site.admin_token))
    rows = stored(site, "SELECT count(*) FROM audit WHERE action = 'token.revoke'")
    assert (again.status_code, rows) == (409, [(1,)]), (again.status_code, again.text, rows)
    assert _error(again)["code"] == "already_done"
    revoked_at = stored(site, "SELECT revoked_at FROM api_tokens WHERE id = ?", guard_bot)
    listed = client.get("/api/tokens", headers=bearer(site.admin_token)).json()
    assert revoked_at[0][0] is not None and next(t for t in listed if t["id"] == guard_bot)["revoked_at"]


# 8. Row ids within SQLite's integers.


def test_an_id_too_big_in_a_payment_points_to_the_schema(site: Site) -> None:
    """A kiosk sending a pass_id beyond SQLite's integers is told to "use a date between the years
    2000 and 2200", though no date was sent; docs/guard-app.md says such a row id is 422
    `invalid_request` whose fix points to /openapi.json."""
    with TestClient(create_app(site.gw), raise_server_exceptions=False) as client:
        for field in ("pass_id", "resident_id"):
            r = client.post(
                "/api/parking/lanes/car-out/pay",
                json={field: 2**63, "amount_fen": 500, "method": "cash"},
                headers=bearer(site.guard_token),
            )
            assert r.status_code == 422 and _error(r)["code"] == "invalid_request", r.text
            assert "/openapi.json" in str(_error(r)["fix"]), _error(r)["fix"]


# 9. A vehicle change that changes nothing.


def test_a_vehicle_change_that_changes_nothing_is_refused(client: TestClient, site: Site) -> None:
    """PATCH /api/vehicles/{id} {"vehicle_class": "car"} on a car is answered 204, audited
    `vehicle.update` and sent upstream as a change, though nothing changed; docs/guard-app.md says a
    body that changes nothing is refused with 422 (as the same plate is, `nothing_to_change`)."""
    before = stored(site, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'")
    r = client.patch(
        f"/api/vehicles/{site.vehicle_id}", json={"vehicle_class": "car"}, headers=bearer(site.admin_token)
    )
    after = stored(site, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'")
    assert (r.status_code, after) == (422, before), (r.status_code, r.text, before, after)
    assert _error(r)["code"] == "nothing_to_change"


def test_a_renewal_to_the_day_it_ends_already_changes_nothing(client: TestClient, site: Site) -> None:
    """A period renewed, then renewed to the same day (a second tap), or a period ended that was
    never monthly: nothing is changed, audited or sent; a renewal to another day is."""
    admin = bearer(site.admin_token)
    url = f"/api/vehicles/{site.vehicle_id}"
    assert client.patch(url, json={"monthly_until": None}, headers=admin).status_code == 422
    assert client.patch(url, json={"monthly_until": "2030-06-30"}, headers=admin).status_code == 204
    outbox = stored(site, "SELECT count(*) FROM outbox")
    again = client.patch(url, json={"monthly_until": "2030-06-30"}, headers=admin)
    assert again.status_code == 422 and _error(again)["code"] == "nothing_to_change", again.text
    assert stored(site, "SELECT count(*) FROM outbox") == outbox
    moved = client.patch(url, json={"monthly_until": "2030-07-31", "vehicle_class": "car"}, headers=admin)
    assert moved.status_code == 204, moved.text
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'vehicle.update'") == [(2,)]


# 10. The quote of a lane where no car waits.


def test_a_lane_quote_with_no_car_held_names_pass_and_resident_null(client: TestClient, site: Site) -> None:
    """A kiosk polling GET /api/parking/lanes/car-out/quote while no car waits gets no `pass` nor
    `resident` key at all (KeyError in a client reading quote["pass"]), while docs/parking.md says
    each of them is null when it does not name the car, as the quote of a car held by plate gives."""
    quote = client.get("/api/parking/lanes/car-out/quote", headers=bearer(site.guard_token)).json()
    assert quote["plate"] is None and quote["due_fen"] == 0
    assert "pass" in quote and "resident" in quote, f"quote: {quote}"
    assert (quote["pass"], quote["resident"]) == (None, None)


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[Site]:
    """The site with the tests' tariff: a car 3 hours inside owes at the exit."""
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def test_a_lane_quote_has_the_same_keys_with_a_car_held_or_none(paying_site: Site) -> None:
    """A client reads one shape, whether a car waits or not (docs/parking.md)."""
    site, guard = paying_site, bearer(paying_site.guard_token)
    came = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    with TestClient(create_app(site.gw)) as client:
        empty = client.get("/api/parking/lanes/car-out/quote", headers=guard).json()
        _stay(client, site, "苏E44444", entered_at=f"{came:%Y-%m-%d %H:%M}")
        typed = client.post("/api/lanes/car-out/plate", json={"plate": "苏E44444"}, headers=guard)
        assert typed.status_code == 200, typed.text
        held = client.get("/api/parking/lanes/car-out/quote", headers=guard).json()
    assert held["plate"] == "苏E44444" and held["due_fen"] > 0, held
    assert set(empty) == set(held), (sorted(set(empty) ^ set(held)), empty)
    assert empty["at"].endswith("+08:00") and empty["due_text"] == "0元"


# 11. A change by ref keeps what it leaves out.


def test_a_resident_change_keeps_the_fields_it_leaves_out(client: TestClient, site: Site) -> None:
    """The property company's tool removing a resident's phone with the documented
    POST /api/residents {"ref": "R1", "phone": null} is refused 422 `body.building: Field required`;
    docs/guard-app.md says a change by ref keeps every field the request leaves out."""
    r = client.post("/api/residents", json={"ref": "R1", "phone": None}, headers=bearer(site.admin_token))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == site.resident_id
    shown = client.get(f"/api/residents/{site.resident_id}", headers=bearer(site.admin_token)).json()
    kept = (shown["building"], shown["unit"], shown["name"], shown["room"])
    assert kept == ("3栋", "2单元", "张三丰", "301")
    assert not shown["phone_masked"], shown["phone_masked"]


def test_a_new_resident_without_building_unit_or_name_is_refused_naming_them(
    client: TestClient, site: Site
) -> None:
    admin = bearer(site.admin_token)
    r = client.post("/api/residents", json={"ref": "R9", "name": "王芳"}, headers=admin)
    assert r.status_code == 422, r.text
    error = _error(r)
    assert (error["code"], error.get("fields")) == ("invalid_request", ["building", "unit"]), error
    assert stored(site, "SELECT count(*) FROM residents WHERE ref = 'R9'") == [(0,)]
    # A blank one is refused as before; the whole form (the admin page's) adds the resident.
    blank = client.post(
        "/api/residents", json={"ref": "R9", "name": "王芳", "building": " ", "unit": "1单元"}, headers=admin
    )
    assert blank.status_code == 422 and _error(blank).get("fields") == ["building"], blank.text
    whole = {"ref": "R9", "name": "王芳", "building": "8栋", "unit": "1单元", "room": "502"}
    assert client.post("/api/residents", json=whole, headers=admin).status_code == 200


def test_a_resident_change_naming_nothing_but_its_ref_is_refused(client: TestClient, site: Site) -> None:
    before = stored(site, "SELECT count(*) FROM audit WHERE action = 'resident.upsert'")
    for body in ({"ref": "R1"}, {"ref": "R1", "blocked": None}):
        r = client.post("/api/residents", json=body, headers=bearer(site.admin_token))
        assert r.status_code == 422 and _error(r)["code"] == "nothing_to_change", r.text
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'resident.upsert'") == before
