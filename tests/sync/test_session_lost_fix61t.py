"""Review 61t: the gateway keeps a persistent MQTT session, so the centre's deltas sent while it is
offline wait at the broker. When the broker keeps no session for it (a stolen box's credentials
connecting with a clean start, a broker restarted without persistence), the deltas are gone: the
gateway stayed on its old version, a card struck off kept opening the gate, and nothing asked for a
snapshot until the centre's next change showed a gap, days later. Now the connect that finds no
session asks the centre for a snapshot, which mends it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
from conftest import running
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening
from test_sync_downlink import Site, card, directory_v1

from gateway.config import SiteConfig
from gateway.sync.messages import encode_delta, encode_snapshot
from gateway.sync.versions import Ignore, Request, Versions

ROOT = Path(__file__).resolve().parents[2]
SITE_ID = "site-a"
STRUCK_OFF = [{"kind": "card", "card": "C0001"}]  # the centre's change while the gateway is offline


def register_v2() -> list[dict[str, object]]:
    """The centre's register once card C0001 is struck off and C0004 given to R3."""
    return [e for e in directory_v1() if e.get("card") != "C0001"] + [card("C0004", "R3")]


class Estate:
    """One site's gateway on a broker with the recommended ACL, and the centre: its publisher and a
    watcher of what the gateway sends up, on the central account."""

    def __init__(self, brokers: Callable[..., Mosquitto], sync_cfg: Callable[..., SiteConfig], tmp: Path):
        acl = (ROOT / "docs/examples/mosquitto.acl").read_text()
        self.broker = brokers(users={SITE_ID: "pa", "central": "pc"}, acl=acl)
        self.broker.start()
        (tmp / "pw-a").write_text("pa")
        self.cfg = sync_cfg(self.broker.port, SITE_ID, username=SITE_ID, password_file=tmp / "pw-a")
        self.centre_up()

    def centre_up(self) -> None:
        self.central = Central(self.broker, SITE_ID, username="central", password="pc")
        self.watch = Subscriber(
            self.broker,
            [f"estate/{SITE_ID}/sync/#"],
            client_id="central-watch",
            username="central",
            password="pc",
        )

    def centre_down(self) -> None:
        self.central.close()
        self.watch.close()

    def first_start_on_v1(self) -> None:
        with running(self.cfg) as (gw, service):
            wait_listening(service)
            for part in encode_snapshot(1, directory_v1(), 4):
                self.central.publish("sync/snapshot", part)
            site = Site(gw, service, self.central, self.watch)
            site.wait_applied(1)
            assert site.card_reason("C0001") == "resident"

    def asked_for_session_lost(self) -> list[dict[str, object]]:
        return [
            r for r in self.watch.payloads("/sync/request") if str(r["reason"]).startswith("session lost")
        ]


def thief_wipes_the_session(port: int) -> None:
    """The stolen box's site account and client id, connecting once with a clean start."""
    thief = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{SITE_ID}", protocol=paho.MQTTv5)
    thief.username_pw_set(SITE_ID, "pa")
    connected: list[bool] = []
    thief.on_connect = lambda *a: connected.append(True)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    thief.connect("127.0.0.1", port, 30, clean_start=True, properties=props)
    thief.loop_start()
    wait_for("the thief's connection", lambda: connected)
    thief.disconnect()
    thief.loop_stop()


def the_centre_answers_with_its_snapshot(estate: Estate) -> None:
    """The gateway comes back on v1, asks for a snapshot as its session is lost, and the centre's
    answer ends the struck-off card's use."""
    with running(estate.cfg) as (gw, service):
        wait_listening(service)
        site = Site(gw, service, estate.central, estate.watch)
        asked = wait_for("a snapshot asked for as the session was lost", estate.asked_for_session_lost)
        assert asked[0]["have_version"] == 1
        assert service.status()["directory"]["need_snapshot"] is True  # /api/health says so meanwhile
        for part in encode_snapshot(2, register_v2(), 4):
            estate.central.publish("sync/snapshot", part)
        site.wait_applied(2)
        assert site.card_reason("C0001") == "unknown"
        assert site.card_reason("C0004") == "resident"
        assert service.status()["directory"]["need_snapshot"] is False
    assert len(estate.asked_for_session_lost()) == 1  # once for the connect, not again and again


def test_a_session_wiped_by_a_stolen_box_asks_for_a_snapshot(brokers, sync_cfg, tmp_path: Path) -> None:  # noqa: ANN001
    estate = Estate(brokers, sync_cfg, tmp_path)
    try:
        estate.first_start_on_v1()
        estate.central.publish("sync/delta", encode_delta(2, 1, [card("C0004", "R3")], STRUCK_OFF))
        thief_wipes_the_session(estate.broker.port)
        the_centre_answers_with_its_snapshot(estate)
    finally:
        estate.centre_down()


def test_a_broker_restarted_without_its_sessions_asks_for_a_snapshot(
    brokers,  # noqa: ANN001
    sync_cfg,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    estate = Estate(brokers, sync_cfg, tmp_path)
    try:
        estate.first_start_on_v1()
        estate.central.publish("sync/delta", encode_delta(2, 1, [card("C0004", "R3")], STRUCK_OFF))
        estate.centre_down()
        estate.broker.stop()
        (estate.broker.workdir / "mosquitto.db").unlink()  # a broker with no persistence
        estate.broker.start()
        estate.centre_up()
        the_centre_answers_with_its_snapshot(estate)
    finally:
        estate.centre_down()


def test_a_kept_session_and_a_new_box_ask_for_no_extra_snapshot(brokers, sync_cfg, tmp_path: Path) -> None:  # noqa: ANN001
    estate = Estate(brokers, sync_cfg, tmp_path)
    try:
        estate.first_start_on_v1()  # a new box: its first connect finds no session, nothing to lose
        estate.central.publish("sync/delta", encode_delta(2, 1, [card("C0004", "R3")], STRUCK_OFF))
        with running(estate.cfg) as (gw, service):
            wait_listening(service)  # the connect's session check is queued before this
            site = Site(gw, service, estate.central, estate.watch)
            site.wait_applied(2)
            assert site.card_reason("C0001") == "unknown"
            # A request of the operator's, queued after the connect: every request before it is written.
            service.directory.resync("marker")
            reasons = wait_for(
                "the marker's request written",
                lambda: (
                    (r := [json.loads(p)["reason"] for (p,) in site.rows(_REQUESTS)])
                    and r[-1] == "marker"
                    and r
                ),
            )
        # The new box's one request for its empty register, then the marker: no session lost.
        assert len(reasons) == 2 and reasons[0].startswith("the register is empty"), reasons
    finally:
        estate.centre_down()


_REQUESTS = "SELECT payload FROM outbox WHERE topic = 'sync_request' ORDER BY seq"


def test_which_lost_sessions_ask_for_a_snapshot() -> None:
    def versions(applied: int, need_snapshot: bool = False) -> Versions:
        return Versions(applied, gap_wait=30.0, resync_interval=300.0, need_snapshot=need_snapshot)

    on_v5 = versions(5)
    assert on_v5.session_lost("session lost", 100.0) == [Request("session lost")]
    assert on_v5.need_snapshot
    # Asked already (a new box's empty register, a gap): asked again every resync_interval anyway.
    asking = versions(5, need_snapshot=True)
    assert isinstance(asking.session_lost("session lost", 100.0)[0], Ignore)
    # Nothing of the centre's applied (a register kept by hand): a snapshot would never come.
    by_hand = versions(0)
    assert isinstance(by_hand.session_lost("session lost", 100.0)[0], Ignore)
    assert not by_hand.need_snapshot
