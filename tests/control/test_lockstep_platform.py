"""cloud.lockstep_platform: the plugin ``xj sim run --control ...`` loads, on real field controllers."""

from __future__ import annotations

import numpy as np
import pytest

from cloud.lockstep_platform import control_config, make_platform
from roadnet import RoadNetwork
from sim.devices.signals import SignalControllers
from sim.interface import LOCKSTEP_EPOCH, TRUTH_DTYPE, Observations

EPOCH_NS = round(LOCKSTEP_EPOCH * 1e9)


def _truth(net: RoadNetwork, k: int) -> np.ndarray:
    """Ten cars queued on one approach, one more arriving each second."""
    lane = net.lane_index_of["J0_1-J1_1_0"]
    n = 10 + k // 10
    tr = np.zeros(n, dtype=TRUTH_DTYPE)
    tr["vehicle_id"] = [f"car{i}" for i in range(n)]
    tr["lane"] = lane
    tr["s"] = net.lane_length[lane] - 2.0 - 7.0 * np.arange(n)
    tr["length"] = 4.5
    tr["cls"] = 1
    return tr


def test_options_map_to_the_control_config() -> None:
    cfg = control_config({"control": "max-pressure", "tsp": False, "glosa": None, "seed": 1})
    assert cfg.strategy == "max-pressure" and not cfg.tsp.enabled and cfg.glosa.enabled
    assert control_config({"control": None}).strategy == "local"
    cfg = control_config({"control": "fixed", "config": {"fixed": {"recompute_s": 60.0}}})
    assert cfg.fixed.recompute_s == 60.0
    with pytest.raises(ValueError, match="unknown control strategy"):
        control_config({"control": "magic"})
    with pytest.raises(ValueError, match="unknown control settings"):
        control_config({"control": "fixed", "config": {"nope": 1}})
    with pytest.raises(ValueError, match="unknown picture"):
        make_platform(RoadNetwork(), {"picture": "crystal-ball"})


@pytest.mark.parametrize("picture", ["truth", "fused"])
def test_a_lockstep_tick_turns_observations_into_accepted_commands(grid_net: RoadNetwork, picture: str) -> None:
    platform = make_platform(grid_net, {"control": "actuated", "tsp": True, "glosa": True, "picture": picture})
    field = SignalControllers(grid_net, epoch_ns=EPOCH_NS)
    n_cmds = 0
    for k in range(300):
        ts = k * 0.1
        field.advance(ts)
        obs = Observations(t=LOCKSTEP_EPOCH + ts, spat=field.spat(), truth=_truth(grid_net, k))
        d = platform.tick(obs)
        for c in d.commands:
            assert field.apply(c).accepted
        n_cmds += len(d.commands)
    assert n_cmds > 0
    stats = platform.stats()  # type: ignore[attr-defined]
    assert stats["ticks"] == 300 and stats["safety"]["rejected"] == 0
    if picture == "truth":
        pic = platform.picture(obs)  # type: ignore[attr-defined]
        lane = grid_net.lane_index_of["J0_1-J1_1_0"]
        assert (
            obs.truth is not None and pic.lanes["count"][lane] == len(obs.truth) and pic.lanes["queue_veh"][lane] >= 10
        )
