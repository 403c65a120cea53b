"""The site config: one TOML file per site, validated at start-up by these models.

Every field has a title and a description: `gateway check-config` and the config reference in
docs/config.md are made from them.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from gateway.config.addresses import check_broker_host, check_listen
from gateway.config.common import Identifier, Strict
from gateway.config.devices import Device, SimulatedDevice
from gateway.config.parking import Parking, Patrol, Reports, Retention
from gateway.core.windows import DIFFERENT_END_OR_EMPTY, Window

__all__ = ["Device", "SimulatedDevice", "SiteConfig"]

# What a closed-management period may ask a visitor for. `occupants`: a visitor with a vehicle lists
# the driver and everyone in it (a visitor on foot has nobody to list).
VisitorField = Literal[
    "id_number", "phone", "destination", "reason", "host_building", "host_unit", "passengers", "occupants"
]
# REQUIREMENTS 9: ID number, phone, destination and reason, building and unit; for a vehicle also
# the driver and everyone in it.
DEFAULT_VISITOR_FIELDS: tuple[VisitorField, ...] = (
    "id_number",
    "phone",
    "destination",
    "reason",
    "host_building",
    "host_unit",
    "occupants",
)


def _check_hours(values: list[str]) -> list[str]:
    for text in values:
        Window.parse(text, fix=DIFFERENT_END_OR_EMPTY)  # no hours at all: any time
    return values


class SiteInfo(Strict):
    id: Identifier = Field(title="Site id", description="Names this gateway upstream (MQTT topics).")
    name: str = Field(title="Site name", description="Shown to guards, e.g. 阳光花园北区.")
    timezone: str = Field(
        "Asia/Shanghai",
        title="Time zone",
        description="IANA name; opening hours are local time. An Etc/GMT name's sign is the inverse "
        "of its offset (Etc/GMT+8 is UTC-8, 16 hours behind Beijing): check-config and the start "
        "warn of one.",
    )
    language: Literal["zh", "en"] = Field(
        "zh", title="Language", description="Language of lane displays and guard pages."
    )
    data_dir: Path = Field(
        Path("/var/lib/estate-gateway"),
        strict=False,  # a string: common.Strict
        title="Data directory",
        description="Database, snapshots and secrets; relative paths are from the config file. Not "
        "under /home or /root (the service's unit hides them) nor /tmp (its own, emptied at each "
        "stop), and a folder the service may write: in the unit's ReadWritePaths (ProtectSystem=strict "
        "makes the rest read-only to it) and its user's (sudo install -d -o estate-gateway ..., not "
        "mkdir): check-config warns of each.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
        return value


class ClosedManagement(Strict):
    first_day: date = Field(title="First day", description="First day of the period (YYYY-MM-DD).")
    last_day: date = Field(title="Last day", description="Last day of the period, inclusive.")
    hours: list[str] = Field(
        default_factory=list,
        title="Daily hours",
        description="HH:MM-HH:MM windows inside each day (22:00-06:00 crosses midnight; one that ends "
        "when it starts, 08:00-08:00, is refused); empty means all day.",
    )
    temporary_vehicles: Literal["refuse", "admit"] = Field(
        "refuse", title="Temporary vehicles", description="Whether unregistered cars may enter."
    )
    contractors: Literal["refuse", "admit"] = Field(
        "refuse", title="Contractors", description="Whether contractor passes are honoured."
    )
    visitor_fields: list[VisitorField] = Field(
        default_factory=lambda: list(DEFAULT_VISITOR_FIELDS),
        title="Visitor fields",
        description="What a visitor must have registered to enter during the period. `occupants`: "
        "a visitor with a vehicle lists the driver and everyone in it, each with the id_number and "
        "phone asked here.",
    )

    _hours = field_validator("hours")(_check_hours)


class Policy(Strict):
    no_slot: Literal["refuse", "temporary"] = Field(
        "temporary",
        title="Registered car with no slot",
        description="refuse it, or admit it as a temporary (paying) car.",
    )
    shared_slot_second_car: Literal["refuse", "temporary"] = Field(
        "temporary",
        title="Second car of a shared slot (一位多车)",
        description="When another car of the same slot is inside: refuse, or admit as temporary.",
    )
    unknown_vehicle: Literal["refuse", "temporary"] = Field(
        "temporary",
        title="Unregistered car",
        description="refuse it, or admit it as a temporary car that pays by time.",
    )
    anti_passback: Literal["off", "soft", "hard"] = Field(
        "soft",
        title="Anti-passback",
        description="A second entry with no exit between: off, soft (admit and flag), hard (refuse).",
    )
    reentry: Literal["void", "charge"] = Field(
        "void",
        title="Stay left open by a missed exit",
        description="When a car inside enters again (soft anti-passback): void closes the old stay "
        "without a fee; charge bills it up to the new entry, payable at the car's next exit.",
    )
    exit_without_entry: Literal["open", "guard", "charge"] = Field(
        "guard",
        title="Unregistered vehicle leaving with no entry record",
        description="open: let it out (flagged); guard: keep the barrier shut for the guard; "
        "charge: it pays a day of its class's rate (按一天收费): the daily cap (at most max_per_stay_fen), "
        "or for a rate without one what a 24-hour stay costs by it; a class the tariff does not price "
        "leaves free. "
        "Registered vehicles always leave, flagged.",
    )
    closed_management: list[ClosedManagement] = Field(
        default_factory=list,
        title="Closed-management periods",
        description="Periods when only residents and fully registered visitors enter.",
    )


class Capacity(Strict):
    car: int = Field(0, ge=0, title="Cars", description="Spaces for cars, fixed slots included.")
    motorcycle: int = Field(0, ge=0, title="Motorcycles", description="Spaces for motorcycles.")
    bicycle: int = Field(0, ge=0, title="Bicycles", description="Spaces for bicycles.")


class Zone(Strict):
    id: Identifier = Field(
        title="Zone id",
        description="Referenced by lanes and slots. A zone is a car park whose lanes are the "
        "estate's gates: one inside the estate behind its own barrier (an underground garage) is "
        "not supported yet; count its spaces in the zone the gates lead to (docs/parking.md).",
    )
    name: str = Field(title="Zone name", description="Shown to guards.")
    capacity: Capacity = Field(title="Capacity", description="Spaces per vehicle class.")


class Gate(Strict):
    id: Identifier = Field(title="Gate id", description="Referenced by lanes.")
    name: str = Field(title="Gate name", description="Shown to guards, e.g. 北门.")


class Lane(Strict):
    id: Identifier = Field(title="Lane id", description="Referenced by devices.")
    gate: str = Field(title="Gate", description="The id of the gate this lane belongs to.")
    name: str = Field("", title="Lane name", description="Shown to guards, e.g. 北门入口.")
    direction: Literal["entrance", "exit"] = Field(title="Direction", description="entrance or exit.")
    type: Literal["vehicle", "pedestrian"] = Field(title="Type", description="vehicle or pedestrian.")
    zone: str | None = Field(
        None, title="Zone", description="Parking zone a vehicle lane leads to (vehicle lanes only)."
    )
    hours: list[str] = Field(
        default_factory=list,
        title="Opening hours",
        description="HH:MM-HH:MM windows when the lane opens for anyone; empty means always. Outside "
        "them it refuses everyone (outside_hours), but at an exit a car held at the barrier to pay "
        "since before they ended and standing there still (decided again within the last minute): "
        "its fee taken, it leaves.",
    )
    pulse_seconds: float = Field(
        1.0, gt=0, le=30, title="Relay pulse", description="How long the relay closes to open."
    )
    plate_match: Literal["exact", "confusable"] = Field(
        "exact",
        title="Plate matching",
        description="exact: a read plate opens only for the same registered plate; confusable: "
        "also for the one registered plate a single look-alike character away (0/D/Q, 8/B, 2/Z, "
        "5/S, 1/T, 津/沪...), never when two are that close.",
    )
    vehicle_class: Literal["car", "motorcycle", "bicycle"] | None = Field(
        None,
        title="Vehicle class",
        description="The class of an unregistered vehicle on this lane, e.g. motorcycle for a "
        "motorcycle lane: counted and billed as such. Unset: car. Registered vehicles and "
        "visitors' vehicles keep their own class (vehicle lanes only), but a card or pass QR that "
        "names a car, at a motorcycle or bicycle lane, is its holder on the lane's class, the car "
        "left where it is. An entrance's zone needs "
        "spaces of its class (fixed slots are car slots): check-config warns of an entrance into a "
        "zone with none (a car one still lets cars on their own slots in).",
    )

    _hours = field_validator("hours")(_check_hours)


class Mqtt(Strict):
    enabled: bool = Field(False, title="Enabled", description="Sync with the central server.")
    host: str = Field(
        "localhost",
        title="Broker host",
        description="Host name or IP address alone, e.g. mqtt.example.cn: no mqtt:// and no :PORT "
        "(the port is the port key; ca_file turns TLS on).",
    )
    port: int = Field(1883, ge=1, le=65535, title="Broker port", description="1883, or 8883 with TLS.")
    topic_prefix: str = Field(
        "estate",
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        title="Topic prefix",
        description="Topics are PREFIX/SITE_ID/...; letters, digits, - and _, levels split by /.",
    )
    client_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        title="Client id",
        description="MQTT client id; gw-SITE_ID when not set. Must be unique on the broker.",
    )
    username: str | None = Field(None, title="User name", description="Broker account, if any.")
    password_file: Path | None = Field(
        None,
        strict=False,
        title="Password file",
        description="File holding the broker password (never put the password in this config).",
    )
    ca_file: Path | None = Field(None, strict=False, title="CA file", description="Turns TLS on.")
    cert_file: Path | None = Field(
        None, strict=False, title="Client certificate", description="For mutual TLS."
    )
    key_file: Path | None = Field(None, strict=False, title="Client key", description="For mutual TLS.")
    keepalive_s: int = Field(
        30, ge=5, le=1200, title="Keep-alive", description="Seconds between pings when idle."
    )
    session_expiry_s: int = Field(
        86400,
        ge=0,
        le=4294967295,
        title="Session expiry",
        description="How long the broker keeps downlink messages for this gateway while it is offline.",
    )
    inflight: int = Field(
        100,
        ge=1,
        le=1000,
        title="Messages in flight",
        description="QoS 1 messages sent and not yet acknowledged (capped by the broker's own limit).",
    )
    max_message_bytes: int = Field(
        262144,
        ge=1024,
        title="Largest upstream message",
        description="A record larger than this (or than the broker accepts) is quarantined, not sent.",
    )
    max_received_kb: int = Field(
        4096,
        ge=64,
        le=262144,
        title="Largest message received",
        description="The broker is asked (MQTT 5 Maximum Packet Size) to send nothing larger, and a "
        "larger message is dropped on arrival, not kept: keep snapshot parts well under it.",
    )
    reconnect_min_s: float = Field(
        1.0, gt=0, le=60, title="First reconnect delay", description="Doubles after each failure."
    )
    reconnect_max_s: float = Field(
        60.0, gt=0, le=3600, title="Longest reconnect delay", description="Cap of the doubling."
    )
    auth_retry_s: float = Field(
        300.0,
        gt=0,
        le=86400,
        title="Retry after refusal",
        description="Wait after the broker refuses our credentials: no tight loop against a broker.",
    )
    health_interval_s: float = Field(
        60.0, gt=0, le=3600, title="Health interval", description="Seconds between health reports."
    )
    command_key_file: Path | None = Field(
        None,
        strict=False,
        title="Command key file",
        description="Shared key that signs remote commands (DATA_DIR/command.key when not set); "
        "without it remote commands are refused.",
    )
    command_max_age_s: int = Field(
        300,
        ge=10,
        le=86400,
        title="Command lifetime",
        description="A command whose expiry is further than this from its issue time is refused.",
    )
    clock_skew_s: int = Field(
        60, ge=0, le=3600, title="Clock skew", description="Tolerated clock difference with the centre."
    )
    gap_wait_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        title="Gap wait",
        description="How long an early delta waits for the missing one before a snapshot is asked for.",
    )
    resync_interval_s: float = Field(
        300.0,
        gt=0,
        le=86400,
        title="Resync interval",
        description="While a snapshot is needed and none comes, ask again this often.",
    )
    apply_step_rows: int = Field(
        400,
        ge=10,
        le=100000,
        title="Rows in the first apply step",
        description="A large snapshot is applied in short steps so the lanes never wait: the "
        "first step of each kind of row (residents, vehicles, cards, slots ...) takes this many, "
        "later steps are sized to take about 2 ms each.",
    )
    outbox_quota_mb: float = Field(
        512.0,
        gt=0,
        title="Outbox quota",
        description="Unsent records above this raise an alarm; records are never dropped.",
    )
    outbox_alarm_percent: int = Field(
        80,
        ge=1,
        le=100,
        title="Outbox alarm level",
        description="Per cent of the quota at which the outbox alarm is raised.",
    )
    keep_sent_days: float = Field(
        7.0,
        ge=0,
        # A hundred years (configs of before the limit wrote 36500 for "for ever"); inf or 1e12
        # would pass a bare ge=0 and overflow timedelta at run time.
        le=36500,
        allow_inf_nan=False,
        title="Keep sent records",
        description="Days a sent outbox row is kept for audit. An access record's row is kept as long "
        "as the record instead (retention.access_records_days after the central server confirmed "
        "it): its sent_at is the proof of delivery retention waits for.",
    )

    @field_validator("host")
    @classmethod
    def _host_is_a_host(cls, value: str) -> str:
        return check_broker_host(value)

    @model_validator(mode="after")
    def _password_needs_user(self) -> Mqtt:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file is set but username is not; set the broker user name")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s is less than reconnect_min_s")
        return self


class Http(Strict):
    listen: str = Field(
        "127.0.0.1",
        title="Listen address",
        description="An address of this box (an IP address or a host name, no port): 0.0.0.0 to "
        "serve the guard tablet on the LAN, 127.0.0.1 for this box only.",
    )
    port: int = Field(8080, ge=1, le=65535, title="Port", description="HTTP port for the API and pages.")
    tls_cert_file: Path | None = Field(
        None,
        strict=False,
        title="TLS certificate",
        description="PEM certificate (chain) file, the gateway's own certificate first, then any "
        "intermediate; with tls_key_file, serves HTTPS and marks the session cookie Secure. A "
        "relative path is from the config file's folder; keep both in /etc/estate-gateway (the "
        "service cannot read /home or /tmp).",
    )
    tls_key_file: Path | None = Field(
        None,
        strict=False,
        title="TLS key",
        description="PEM private key of tls_cert_file, without a pass phrase (nobody types one "
        "for the service), readable by the gateway only (owner estate-gateway, mode 600); a "
        "relative path is from the config file's folder.",
    )
    session_hours: float = Field(
        12.0,
        gt=0,
        le=168,
        title="Session length",
        description="Hours a guard stays logged in on a tablet (a shift), then logs in again.",
    )

    @field_validator("listen")
    @classmethod
    def _listen_is_an_address(cls, value: str) -> str:
        return check_listen(value)

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None and self.tls_key_file is not None


class Visitors(Strict):
    default_hours: float = Field(
        4.0,
        gt=0,
        le=366 * 24,
        title="Visitor pass length",
        description="Hours a visitor pass is valid when the guard does not give an end time; at most "
        "visitor_max_days days.",
    )
    visitor_max_days: int = Field(
        7, ge=1, le=366, title="Longest visitor pass", description="Days; longer visitor passes are refused."
    )
    contractor_max_days: int = Field(
        366,
        ge=1,
        le=3660,
        title="Longest contractor pass",
        description="Days; renovation crews often need a few months.",
    )

    @model_validator(mode="after")
    def _default_pass_is_allowed(self) -> Visitors:
        # The pass a guard registers without an end time is refused by the longest allowed.
        if self.default_hours > self.visitor_max_days * 24:
            raise ValueError(
                f"default_hours = {self.default_hours:g} is longer than visitor_max_days = "
                f"{self.visitor_max_days} allows ({self.visitor_max_days * 24} hours): every visitor "
                "registered without an end time would be refused; set default_hours to "
                f"{self.visitor_max_days * 24} or less (e.g. 4), or visitor_max_days to "
                f"{math.ceil(self.default_hours / 24)} or more"
            )
        return self


class Alarms(Strict):
    repeated_unknown_plate: int = Field(
        3,
        ge=2,
        le=100,
        title="Repeated unknown plate",
        description="Raise an alarm when one unregistered plate is read this many times "
        "within repeated_minutes (a car trying again and again, or a misread plate).",
    )
    repeated_minutes: float = Field(
        10.0,
        gt=0,
        le=1440,
        title="Repeated plate window",
        description="Minutes within which repeated reads of one unknown plate count together.",
    )
    outbox_backlog: int = Field(
        1000,
        ge=1,
        title="Outbox backlog",
        description="Raise an alarm when more records than this wait to go upstream (with [mqtt] on).",
    )
    repair_hours: float = Field(
        24.0,
        title="Repair deadline",
        description="Hours a device may stay offline before its fault is overdue: the repair_overdue "
        "alarm goes upstream and the daily report lists it (faults are repaired within a set time).",
    )
    clear_after_s: float = Field(
        300.0,
        ge=0,
        le=86400,
        title="Fault clears after",
        description="Seconds a device back online must stay online before its device_offline alarm "
        "clears (and its repair_overdue). One that goes off again within them (a loose cable, a "
        "camera that reboots) is the same fault, still open from its first going off: no new alarm, "
        "and the repair deadline is not restarted. The guard's page shows the device online at once; "
        "only the alarm waits. 0 clears it the moment the device is back.",
    )

    @field_validator("repair_hours")
    @classmethod
    def _repair_hours_in_range(cls, value: float) -> float:
        if not 0 < value <= 720:
            raise ValueError(
                f"repair_hours is {value:g}; write the hours a device fault may wait for repair, "
                "more than 0 and at most 720 (30 days), for example 24"
            )
        return value


class Storage(Strict):
    sync: Literal["full", "normal"] = Field(
        "full",
        title="Durability",
        description=(
            "full: every decision is on disk before the gate opens, even across a power cut; "
            "normal: survives a crash of the gateway but may lose the last decisions on power loss."
        ),
    )


class SiteConfig(Strict):
    site: SiteInfo = Field(title="Site", description="Who and where this gateway is.")
    policy: Policy = Field(default_factory=Policy, title="Policy", description="Admission rules.")
    zones: list[Zone] = Field(default_factory=list, title="Zones", description="Parking zones.")
    gates: list[Gate] = Field(title="Gates", description="Entrances of the estate.")
    lanes: list[Lane] = Field(title="Lanes", description="Lanes of the gates.")
    devices: list[Device] = Field(
        default_factory=list, title="Devices", description="Readers, cameras, relays, displays."
    )
    mqtt: Mqtt = Field(default_factory=Mqtt, title="MQTT", description="Link to the central server.")
    http: Http = Field(default_factory=Http, title="HTTP", description="API and guard pages.")
    storage: Storage = Field(default_factory=Storage, title="Storage", description="Database options.")
    parking: Parking = Field(
        default_factory=Parking, title="Parking", description="Tariffs and payment (明码标价)."
    )
    reports: Reports = Field(default_factory=Reports, title="Reports", description="The daily report.")
    patrol: Patrol = Field(default_factory=Patrol, title="Patrol", description="Guard patrols (电子巡更).")
    retention: Retention = Field(
        default_factory=Retention,
        title="Retention",
        description="How long records are kept, and the disk guard.",
    )
    visitors: Visitors = Field(
        default_factory=Visitors, title="Visitors", description="Visitor and contractor passes."
    )
    alarms: Alarms = Field(default_factory=Alarms, title="Alarms", description="When alarms are raised.")

    @property
    def command_key_path(self) -> Path:
        """Where the key that signs remote commands is read: [mqtt] command_key_file, else
        DATA_DIR/command.key (docs/mqtt.md, Keys)."""
        return self.mqtt.command_key_file or self.site.data_dir / "command.key"
