"""Vehicle types: SUMO's ``<vType>`` parameters as flat arrays, with SUMO's per-class defaults.

A type carries the physical and driver parameters the engine uses: ``accel`` (the IDM maximum
acceleration a), ``decel`` (the IDM comfortable deceleration b), ``emergency_decel``, ``length``,
``width``, ``min_gap`` (the IDM jam distance s0), ``tau`` (the IDM time gap T), ``max_speed``,
``sigma`` (driver imperfection, 0..1) and the speed factor distribution (``speed_factor`` mean,
``speed_dev`` deviation, clipped to [0.2, 2] as SUMO's ``normc``). Units: m, s, m/s, m/s^2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from roadnet import classes

F64 = npt.NDArray[np.float64]

#: lane-permission bits of a vehicle that ignores permissions (SUMO vClass "ignoring")
IGNORING_BITS: Final = 0xFFFF

#: SUMO vClass -> ObjectClass of the wire contract
VCLASS_CLASS: Final[dict[str, int]] = {
    "passenger": classes.CAR,
    "private": classes.CAR,
    "hov": classes.CAR,
    "evehicle": classes.CAR,
    "vip": classes.CAR,
    "ignoring": classes.CAR,
    "custom1": classes.CAR,
    "custom2": classes.CAR,
    "taxi": classes.ROBOTAXI,
    "bus": classes.BUS,
    "coach": classes.BUS,
    "trolleybus": classes.BUS,
    "truck": classes.TRUCK,
    "trailer": classes.TRUCK,
    "delivery": classes.TRUCK,
    "motorcycle": classes.MOTORCYCLE,
    "moped": classes.MOTORCYCLE,
    "bicycle": classes.CYCLIST,
    "emergency": classes.EMERGENCY,
    "authority": classes.EMERGENCY,
    "army": classes.EMERGENCY,
}

#: ObjectClass -> the vClass written to SUMO route files
CLASS_VCLASS: Final[dict[int, str]] = {
    classes.CAR: "passenger",
    classes.ROBOTAXI: "taxi",
    classes.BUS: "bus",
    classes.TRUCK: "truck",
    classes.MOTORCYCLE: "motorcycle",
    classes.CYCLIST: "bicycle",
    classes.EMERGENCY: "emergency",
}

#: the parameters of one type, in the order of :class:`VTypes`' float columns
PARAMS: Final = (
    "accel",
    "decel",
    "emergency_decel",
    "length",
    "width",
    "min_gap",
    "tau",
    "max_speed",
    "sigma",
    "speed_factor",
    "speed_dev",
)

_PASSENGER: Final[dict[str, float]] = {
    "accel": 2.6,
    "decel": 4.5,
    "emergency_decel": 9.0,
    "length": 5.0,
    "width": 1.8,
    "min_gap": 2.5,
    "tau": 1.0,
    "max_speed": 55.56,
    "sigma": 0.5,
    "speed_factor": 1.0,
    "speed_dev": 0.1,
}

#: SUMO's defaults per ObjectClass (its "Vehicle Type Parameter Defaults"; passenger for the rest)
CLASS_DEFAULTS: Final[dict[int, dict[str, float]]] = {
    classes.CAR: _PASSENGER,
    classes.ROBOTAXI: _PASSENGER,
    classes.BUS: {
        **_PASSENGER,
        "accel": 1.2,
        "decel": 4.0,
        "emergency_decel": 7.0,
        "length": 12.0,
        "width": 2.5,
        "max_speed": 27.78,
    },
    classes.TRUCK: {
        **_PASSENGER,
        "accel": 1.3,
        "decel": 4.0,
        "emergency_decel": 7.0,
        "length": 7.1,
        "width": 2.4,
        "max_speed": 36.11,
    },
    classes.MOTORCYCLE: {**_PASSENGER, "accel": 6.0, "decel": 10.0, "length": 2.2, "width": 0.9},
    classes.CYCLIST: {**_PASSENGER, "accel": 1.2, "decel": 3.0, "length": 1.6, "width": 0.65, "max_speed": 5.56},
    classes.EMERGENCY: {**_PASSENGER, "length": 6.5, "width": 2.16},
}


def vclass_bits(vclass: str) -> int:
    """Lane-permission bits (``roadnet.classes``) a vehicle of SUMO ``vclass`` needs on a lane."""
    if vclass == "ignoring":
        return IGNORING_BITS
    return classes.bit(VCLASS_CLASS.get(vclass, classes.CAR))


@dataclass(eq=False)
class VTypes:
    """A table of T vehicle types; every array has shape (T,).

    ``cls`` is the ObjectClass; ``bits`` the lane-permission bits a vehicle of the type needs
    (``lane_allow & bits != 0``; :data:`IGNORING_BITS` for SUMO's ``ignoring``).
    """

    ids: list[str] = field(default_factory=list)
    vclass: list[str] = field(default_factory=list)
    cls: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    bits: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    params: F64 = field(default_factory=lambda: np.zeros((0, len(PARAMS))))  # (T, len(PARAMS))

    def __len__(self) -> int:
        return len(self.ids)

    def col(self, name: str) -> F64:
        """(T,) one parameter column (see :data:`PARAMS`)."""
        return self.params[:, PARAMS.index(name)]

    def index(self, type_id: str) -> int:
        """Index of a type id, -1 when unknown."""
        try:
            return self.ids.index(type_id)
        except ValueError:
            return -1

    def add(self, type_id: str, vclass: str = "passenger", **values: float) -> int:
        """Add (or replace) a type; parameters not given take the class defaults. Returns its index."""
        cls = VCLASS_CLASS.get(vclass, classes.CAR)
        base = dict(CLASS_DEFAULTS.get(cls, _PASSENGER))
        unknown = set(values) - set(PARAMS)
        if unknown:
            raise ValueError(f"vehicle type {type_id!r}: unknown parameters {sorted(unknown)}")
        base.update({k: float(v) for k, v in values.items()})
        row = np.array([[base[p] for p in PARAMS]], dtype=np.float64)
        i = self.index(type_id)
        if i >= 0:
            self.vclass[i] = vclass
            self.cls[i] = cls
            self.bits[i] = vclass_bits(vclass)
            self.params[i] = row[0]
            return i
        self.ids.append(type_id)
        self.vclass.append(vclass)
        self.cls = np.append(self.cls, np.uint8(cls))
        self.bits = np.append(self.bits, np.int64(vclass_bits(vclass)))
        self.params = np.concatenate([self.params.reshape(-1, len(PARAMS)), row])
        return len(self.ids) - 1


def default_vtypes() -> VTypes:
    """SUMO's built-in types (``DEFAULT_VEHTYPE``, ``DEFAULT_BUSTYPE``, ``DEFAULT_TAXITYPE``) and
    one type per class used by the generators (``car``, ``bus``, ``truck``, ``robotaxi``)."""
    vt = VTypes()
    vt.add("DEFAULT_VEHTYPE", "passenger")
    vt.add("DEFAULT_BUSTYPE", "bus")
    vt.add("DEFAULT_TAXITYPE", "taxi")
    vt.add("car", "passenger")
    vt.add("bus", "bus")
    vt.add("truck", "truck")
    vt.add("robotaxi", "taxi")
    return vt


def sample_speed_factors(vt: VTypes, vtype: npt.NDArray[np.int64], rng: np.random.Generator) -> F64:
    """(N,) per-vehicle speed factors: normal(mean, dev) of each vehicle's type, clipped to [0.2, 2]."""
    mean = vt.col("speed_factor")[vtype]
    dev = vt.col("speed_dev")[vtype]
    out: F64 = np.clip(mean + dev * rng.standard_normal(len(vtype)), 0.2, 2.0)
    return out
