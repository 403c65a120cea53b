"""The neighbouring lane's car on record: a plate a lane's camera read a moment after the car's
decision at the lane of the other direction beside it (gateway/runtime/again.py neighbour_read),
recorded refused `wrong_lane` with flag neighbour_lane. No car stood at this lane's barrier: a read of
the lane's decisions that asks for the car there (refused at it a moment ago, decided there since the
guard's correction, the lane's last decision) leaves these rows out."""

from __future__ import annotations

from gateway.core.model import NEIGHBOUR_LANE
from gateway.store.flags_sql import lacks_flag_sql


def not_neighbours_sql(row: str = "") -> str:
    """SQL: access_log row `row` (its alias; "" for the table itself) is no read of the neighbouring
    lane's car (flag neighbour_lane). A residual term on the flags, as the log's other flags are read
    (gateway/parking/report.py): it leaves the index a query reads by as it is."""
    flags = f"{row}.flags" if row else "flags"
    return lacks_flag_sql(flags, NEIGHBOUR_LANE)
