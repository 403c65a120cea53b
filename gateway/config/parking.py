"""Config of parking and estate operations: tariffs, payments, reports, patrols, retention.

Prices are integer fen (500 = 5元): money is never a float anywhere in the gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.core.card_forms import never_read
from gateway.core.credentials import BadCredential, canonical
from gateway.core.windows import Window

# The audit trail's shortest keep: the database's own trigger refuses to delete a younger row
# (gateway/store/schema.py, migration 16).
AUDIT_FLOOR_DAYS = 180

# Strict: pydantic would take `period_fen = 5.0` (5元 typed with a decimal point) as 5 fen, and a
# price in quotes or true as a number; refused, the problem's fix says 5元 is 500.
Fen = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
CheckpointId = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="lower-case letters, digits, - and _"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)  # as common.Strict


def _hours_for(meaning: str) -> Callable[[str], str]:
    """A check of required hours (no hours is no answer): one that ends when it starts is refused
    with `meaning`, what the hours are for and a sound example."""

    def check(text: str) -> str:
        Window.parse(text, fix=f"give {meaning}")
        return text

    return check


class NightRate(_Strict):
    hours: str = Field(
        title="Night hours", description="HH:MM-HH:MM, e.g. 22:00-07:00; periods that begin inside pay this."
    )
    period_fen: Fen = Field(title="Night price per period", description="Fen per period begun at night.")
    cap_fen: Fen | None = Field(
        None, title="Night cap", description="At most this many fen per night (e.g. 夜间每晚最高5元)."
    )

    _hours = field_validator("hours")(_hours_for("the hours the night price applies, e.g. 22:00-07:00"))


class ClassRate(_Strict):
    free_minutes: int = Field(
        15, ge=0, le=1440, title="Free minutes", description="A stay this long or shorter pays nothing."
    )
    free_deducted: bool = Field(
        False,
        title="Free time deducted",
        description="true: a longer stay pays only for the time past the free minutes; "
        "false: a longer stay pays from its start.",
    )
    first_period_minutes: int = Field(
        60,
        ge=0,
        le=1440,
        title="First period",
        description="Minutes of the first period (0: none, the later periods' price from the start).",
    )
    first_period_fen: Fen = Field(
        0,
        title="First period price",
        description="Fen for the first period. Not given, the first period is free (check-config warns "
        "of it); given with first_period_minutes = 0, refused (it would never be charged).",
    )
    period_minutes: int = Field(
        60, ge=1, le=1440, title="Period", description="Minutes of each later period; a period begun is paid."
    )
    period_fen: Fen = Field(title="Price per period", description="Fen per later period (daytime).")
    daily_cap_fen: Fen | None = Field(
        None,
        title="Daily cap",
        description="At most this many fen per 24 hours from entry (from the end of the free time "
        "where `free_deducted` is set).",
    )
    night: NightRate | None = Field(None, title="Night rate", description="Another price at night.")
    max_per_stay_fen: Fen | None = Field(
        None, title="Maximum per stay", description="No stay pays more than this, however long."
    )
    visitor_free_minutes: int = Field(
        0,
        ge=0,
        le=10080,
        title="Visitor free time",
        description=(
            "A visitor's stay validated by the host unit (业主确认) is free this long; a longer one pays "
            "as `free_deducted` says (from entry where it is false), and the price table says so."
        ),
    )

    @field_validator("first_period_fen")
    @classmethod
    def _first_period_exists(cls, fen: int, info: ValidationInfo) -> int:
        # fees.py charges first_period_fen only for a first period of some minutes: with none, the
        # price passed check-config and was never charged.
        if fen > 0 and info.data.get("first_period_minutes") == 0:
            raise ValueError(
                f"first_period_fen = {fen} is never charged: first_period_minutes = 0 means there is no "
                "first period; set first_period_minutes to its length (60 for 首小时), or remove "
                "first_period_fen to charge period_fen from the start"
            )
        return fen


def free_first_periods(parking: Parking) -> list[str]:
    """check-config's warnings of a class whose first period is free only by the defaults
    (first_period_minutes 60, first_period_fen 0): a tariff giving only `period_fen` lets the first
    hour go free, which its writer rarely meant. The defaults stay, for the sites charging by them."""
    found = []
    for i, tariff in enumerate(parking.tariffs):
        for name in ("car", "motorcycle", "bicycle"):
            rate: ClassRate | None = getattr(tariff, name)
            if rate is None or "first_period_fen" in rate.model_fields_set:
                continue
            if rate.first_period_minutes > 0 and rate.period_fen > 0:
                found.append(
                    f"parking.tariffs[{i}].{name} (version {tariff.version}): the first "
                    f"{rate.first_period_minutes} minutes cost nothing only because first_period_fen "
                    "is not given (it defaults to 0): set first_period_fen to their price (500 for "
                    "首小时5元), or first_period_minutes = 0 to charge period_fen from the start, or "
                    "first_period_fen = 0 if they are meant to be free"
                )
    return found


class Tariff(_Strict):
    version: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        title="Version",
        description="Stamped on every charge made under it, e.g. 2025-01.",
    )
    effective_from: date = Field(
        title="Effective from", description="First day (from 00:00 local) the prices apply."
    )
    car: ClassRate | None = Field(None, title="Cars", description="Prices for cars; absent: cars park free.")
    motorcycle: ClassRate | None = Field(
        None, title="Motorcycles", description="Prices for motorcycles; absent: free."
    )
    bicycle: ClassRate | None = Field(
        None, title="Bicycles", description="Prices for bicycles; absent: free."
    )


class Parking(_Strict):
    tariffs: list[Tariff] = Field(
        default_factory=list,
        title="Tariffs",
        description="Published price versions, oldest first; a stay pays the one in force when it began.",
    )
    grace_minutes: int = Field(
        15,
        ge=0,
        le=240,
        title="Grace after paying",
        description="After paying at the booth or the lane, the car may leave within this many minutes "
        "without paying more. A changed value applies from the restart; a car that paid before it "
        "keeps the longer of its own grace (the `leave_by` its receipt gave) and the new one.",
    )
    monthly_reminder_days: int = Field(
        7,
        ge=0,
        le=90,
        title="Monthly expiry reminder",
        description="Monthly vehicles whose period ends within this many days are listed in the daily "
        "report and sent upstream.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Parking:
        days = [t.effective_from for t in self.tariffs]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError(
                "tariffs must be listed oldest first, each with its own effective_from "
                f"(found {[str(d) for d in days]})"
            )
        versions = [t.version for t in self.tariffs]
        if len(set(versions)) != len(versions):
            raise ValueError(f"each tariff needs its own version (found {versions})")
        return self


class Reports(_Strict):
    hour: int = Field(
        0,
        ge=0,
        le=23,
        title="Report hour",
        description="The daily report covers 24 hours from this hour (local) and is built when they end.",
    )
    keep_days: int = Field(
        400, ge=7, le=3650, title="Keep reports", description="Days that built reports are kept."
    )


class Route(_Strict):
    id: CheckpointId = Field(title="Route id", description="Names the route in alarms and reports.")
    name: str = Field("", title="Route name", description="Shown to guards, e.g. 夜间巡更.")
    checkpoints: list[CheckpointId] = Field(
        min_length=1,
        title="Checkpoints",
        description="Ids of the patrol readers (devices) a round must tap, in any order.",
    )
    hours: str = Field(
        title="Hours",
        description="HH:MM-HH:MM when rounds are due, e.g. 22:00-06:00 (may cross midnight).",
    )
    every_minutes: int = Field(
        120, ge=10, le=1440, title="Interval", description="A round starts this often within the hours."
    )
    round_minutes: int = Field(
        45,
        ge=5,
        le=1440,
        title="Time for a round",
        description="A round not finished this long after it is due is late (alarm); one not finished "
        "before the next is due is missed (alarm).",
    )

    _hours = field_validator("hours")(_hours_for("the hours rounds are due, e.g. 22:00-06:00"))

    @model_validator(mode="after")
    def _fits(self) -> Route:
        if self.round_minutes > self.every_minutes:
            raise ValueError(
                f"round_minutes ({self.round_minutes}) is longer than every_minutes ({self.every_minutes}): "
                "a round would still be running when the next is due"
            )
        if len(set(self.checkpoints)) != len(self.checkpoints):
            raise ValueError("a checkpoint is listed twice in the route")
        return self


def _a_card(value: str) -> str:
    """A guard's card as the register keeps every card (core/credentials.py canonical)."""
    try:
        return canonical("card", value)
    except BadCredential as exc:
        raise ValueError(str(exc)) from exc


GuardCard = Annotated[str, AfterValidator(_a_card)]


class Patrol(_Strict):
    routes: list[Route] = Field(
        default_factory=list,
        title="Patrol routes",
        description="Rounds of checkpoints with their schedule (电子巡更).",
    )
    guard_cards: list[GuardCard] | None = Field(
        None,
        title="Guards' patrol cards",
        description='The numbers of the guards\' patrol cards, e.g. ["0372653390", "054:15694"] (10 '
        "digits zeros first as printed on the card or as a checkpoint reads it, or facility:card): only "
        "their taps at a checkpoint walk a round. A number with its leading zeros lost (372653390) is "
        "refused where the checkpoints are EM4100 or Wiegand readers. Not set: a tap "
        "by any card counts but one the register holds (a resident's, a pass's; `gateway check-config` "
        "and the start warn of such cards that tapped). A card blocked on the "
        "register never counts. A tap that does not count is still recorded and sent to the centre, "
        "marked `counted: false`, and its round stays late or missed, its alarm saying so.",
    )

    @field_validator("guard_cards")
    @classmethod
    def _each_once(cls, cards: list[str] | None) -> list[str] | None:
        if cards is None:
            return None
        if not cards:
            raise ValueError(
                "no card listed: no tap would walk a round; list the guards' patrol cards, or leave "
                "guard_cards out to count any card the register does not hold"
            )
        twice = sorted({card for card in cards if cards.count(card) > 1})
        if twice:
            raise ValueError(
                f"guard card {twice[0]} is listed twice (written alike or not): list each card once"
            )
        return cards


# The checkpoints that give a card's number in a card form: EM4100 (10 digits, zeros first) and
# Wiegand (facility:card). A line reader's checkpoint gives whatever its reader sends.
CARD_FORM_READERS = ("em4100", "wiegand")


def guard_cards_never_read(cards: list[str] | None) -> list[tuple[int, str, str]]:
    """(index, what is wrong, fix) of each listed guard card that no EM4100 or Wiegand checkpoint
    gives, so that its taps would never count there (card_forms.never_read: a number whose leading
    zeros were lost, as the card import refuses it, store/csv_rows.py whole_number, or one of no
    card form at all, "G0001")."""
    found: list[tuple[int, str, str]] = []
    for i, card in enumerate(cards or ()):
        wrong = never_read(card, "checkpoint")
        if wrong is not None:
            what, fix = wrong
            found.append((i, f"guard card {card} {what}: its taps would never count", fix))
    return found


class Retention(_Strict):
    snapshots_days: int = Field(
        7,
        ge=1,
        le=365,
        title="Snapshots",
        description="Days camera snapshots are kept (the plans ask a week).",
    )
    access_records_days: int = Field(
        180,
        ge=1,
        le=3650,
        title="Access records",
        description="Days access records are kept. With [mqtt] on: counted from when the central "
        "server confirmed it has them, and a record not yet delivered is never deleted. With MQTT off "
        "(nothing to deliver to): counted from the record itself, and upstream messages queued before "
        "then (never to be sent) go too. Closed stays, records of materials carried out, closed "
        "alarms and patrol taps and rounds are kept as long.",
    )
    visitors_days: int = Field(
        30,
        ge=1,
        le=3650,
        title="Visitors' personal data",
        description="Days after a visitor or contractor pass ends that its personal data is deleted.",
    )
    audit_days: int = Field(
        365,
        ge=AUDIT_FLOOR_DAYS,
        le=3650,
        title="Audit trail",
        description="Days the audit trail (who changed what) is kept, counted from each row. Never "
        "fewer than 180: China's Cybersecurity Law asks network logs be kept six months, and the "
        "database itself refuses to delete a row less than 180 days older than the newest one.",
    )
    prune_free_percent: float = Field(
        15.0,
        ge=1,
        le=90,
        title="Prune below free space",
        description="When free disk space falls below this percentage, the oldest snapshots are deleted "
        "until it is above again.",
    )
    alarm_free_percent: float = Field(
        10.0,
        ge=0.5,
        le=90,
        title="Alarm below free space",
        description="Below this percentage of free disk space (after pruning) an alarm is raised.",
    )

    @model_validator(mode="after")
    def _thresholds(self) -> Retention:
        if self.alarm_free_percent > self.prune_free_percent:
            raise ValueError(
                "alarm_free_percent is above prune_free_percent: set the alarm lower, so that pruning "
                "snapshots comes first"
            )
        return self
