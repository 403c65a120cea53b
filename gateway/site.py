"""The site config turned into the decision core's own values, once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from gateway.config.models import SiteConfig
from gateway.core import ClosedPeriod, LaneRules, Policy, Window


@dataclass(frozen=True, slots=True)
class Site:
    config: SiteConfig
    tz: ZoneInfo
    lanes: dict[str, LaneRules]
    policy: Policy
    capacity: dict[tuple[str, str], int]  # (zone, vehicle class) -> spaces, fixed slots included

    @classmethod
    def from_config(cls, cfg: SiteConfig) -> Site:
        lanes = {
            lane.id: LaneRules(
                id=lane.id,
                direction=lane.direction,
                type=lane.type,
                zone=lane.zone,
                hours=tuple(Window.parse(h) for h in lane.hours),
                vehicle_class=lane.vehicle_class,
            )
            for lane in cfg.lanes
        }
        periods = tuple(
            ClosedPeriod(
                first_day=p.first_day,
                last_day=p.last_day,
                windows=tuple(Window.parse(h) for h in p.hours),
                admit_temporary_vehicles=p.temporary_vehicles == "admit",
                admit_contractors=p.contractors == "admit",
                visitor_fields=tuple(p.visitor_fields),
            )
            for p in cfg.policy.closed_management
        )
        pol = cfg.policy
        policy = Policy(
            no_slot=pol.no_slot,
            shared_slot_second_car=pol.shared_slot_second_car,
            unknown_vehicle=pol.unknown_vehicle,
            anti_passback=pol.anti_passback,
            exit_without_entry=pol.exit_without_entry,
            closed_periods=periods,
        )
        capacity = {
            (zone.id, cls_name): getattr(zone.capacity, cls_name)
            for zone in cfg.zones
            for cls_name in ("car", "motorcycle", "bicycle")
        }
        return cls(cfg, ZoneInfo(cfg.site.timezone), lanes, policy, capacity)

    def lane_names(self) -> dict[str, str]:
        """Each lane's name as guards know it (北门入口), its id where the config gives none."""
        return {lane.id: lane.name or lane.id for lane in self.config.lanes}
