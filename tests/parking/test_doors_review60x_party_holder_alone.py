"""Review 60x: a pass lets as many in through the doors on its QR as it is registered for (人数,
Review 60b), but not where the count is not people on foot. A pass with a plate counts the people
in its car (driver included): the car came in on its plate with its five, and five more walked in
on the QR forwarded on WeChat, each a plain entry counted inside. And while a closed-management
period asks each person's ID number or phone, a family of four on foot registered on the holder's
alone walked in four, three with nothing on record. In both the pass is its holder alone at a door,
as before 60b: the others are already inside (refused under hard, flagged under soft)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from tests.parking.conftest import DOOR_OUT, T0
from tests.parking.test_doors_review60b_crew_on_one_pass import DAY, H, S, _pass, _report, _shown, hard  # noqa: F401
from tests.parking.test_operations import CLOSED


def test_a_pass_for_a_car_of_five_lets_its_holder_alone_walk_in_beside_it(
    make_gw: Callable[..., Gateway],
    hard: Gateway,  # noqa: F811
) -> None:
    soft = make_gw(extra=DOOR_OUT)
    for gw, refused in ((soft, False), (hard, True)):
        _, qr = _pass(gw, "visitor", 5, T0 - H, plate="苏E66667")
        car = gw.handle(Presented("car-in", "plate", "苏E66667", 0.95, T0, "car-in-cam"))
        assert car.admitted  # the car and its five
        walkers = [_shown(gw, "door", qr, T0 + 30 * S + i * 20 * S) for i in range(5)]
        assert (walkers[0].admitted, walkers[0].flags) == (True, ())  # its visitor, the car left aside
        if refused:
            assert [ev.reason for ev in walkers[1:]] == ["anti_passback"] * 4
        else:
            assert [(ev.admitted, ev.flags) for ev in walkers[1:]] == [(True, ("already_inside",))] * 4
        assert people_inside(gw.conn) == 1


def test_a_family_on_one_pass_under_closed_management_asking_ids_is_its_holder_alone(
    make_gw: Callable[..., Gateway],
) -> None:
    """The period asks ID number and phone (the default): the holder's are on record, the other
    three's not, so each needs a pass of their own. After the closed hours the pass lets four in."""
    gw = make_gw(extra=CLOSED + DOOR_OUT)
    _, qr = _pass(gw, "visitor", 4, DAY + 7 * H)
    family = [_shown(gw, "door", qr, DAY + 8 * H + i * 20 * S) for i in range(4)]
    assert (family[0].admitted, family[0].flags) == (True, ())
    assert [(ev.admitted, ev.flags) for ev in family[1:]] == [(True, ("already_inside",))] * 3
    assert people_inside(gw.conn) == 1  # not four counted inside on one ID
    cm = _report(gw)["closed_management"]
    assert cm["visitors_registered"] == 1
    assert cm["people_in"] == 4  # each passage the door let through, as the office sees it
    assert all(_shown(gw, "door-out", qr, DAY + 20 * H + i * 20 * S).admitted for i in range(4))
    evening = [_shown(gw, "door", qr, DAY + 21 * H + 30 * 60 * S + i * 20 * S) for i in range(4)]
    assert [(ev.admitted, ev.flags) for ev in evening] == [(True, ())] * 4
    assert people_inside(gw.conn) == 4
