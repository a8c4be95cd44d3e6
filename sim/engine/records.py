"""Per-vehicle trip records (what :mod:`sim.kpi` computes KPIs from) and bus-stop events."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Status codes of a trip record.
WAITING: Final = 0  # not inserted yet
RUNNING: Final = 1
ARRIVED: Final = 2

#: One row per demand vehicle, shape (N,). Times s since the simulation start (NaN: not yet);
#: depart = actual insertion, depart_sched = the demand's departure; duration = arrival - depart;
#: free_flow_s = route time at the speed limits; delay_s = duration - free_flow_s;
#: dwell_plan_s = planned stop time (so a bus's schedule is depart_sched + free_flow_s +
#: dwell_plan_s); stops = times the vehicle came to a halt (< 0.1 m/s) after moving, planned
#: stops excluded; distance_m driven; waiting_s standing; teleports = jumps out of a jam.
TRIP_DTYPE: Final = np.dtype(
    [
        ("vehicle_id", "U40"),
        ("cls", np.uint8),
        ("line", "U16"),
        ("connected", np.bool_),
        ("status", np.uint8),
        ("depart_sched", np.float64),
        ("depart", np.float64),
        ("arrival", np.float64),
        ("duration", np.float64),
        ("free_flow_s", np.float64),
        ("delay_s", np.float64),
        ("dwell_plan_s", np.float64),
        ("route_length_m", np.float64),
        ("distance_m", np.float64),
        ("stops", np.int32),
        ("waiting_s", np.float64),
        ("teleports", np.int32),
    ]
)

#: One row per dwell at a planned stop, shape (M,): the stop's bus-stop index (-1 other stop),
#: arrival and departure s, timetable departure s (NaN none), the scheduled departure from
#: free-flow times (depart_sched + free-flow time to the stop + planned dwells so far).
STOP_EVENT_DTYPE: Final = np.dtype(
    [
        ("vehicle_id", "U40"),
        ("line", "U16"),
        ("bus_stop", np.int64),
        ("arrival", np.float64),
        ("departure", np.float64),
        ("until", np.float64),
        ("sched_departure", np.float64),
    ]
)
