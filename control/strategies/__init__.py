"""Signal timing strategies: Webster fixed time, actuated, max-pressure."""

from control.strategies.actuated import Actuated
from control.strategies.base import Context, Strategy
from control.strategies.fixed_time import FixedTime, webster_cycle, webster_splits
from control.strategies.max_pressure import MaxPressure

__all__ = ["Actuated", "Context", "FixedTime", "MaxPressure", "Strategy", "webster_cycle", "webster_splits"]
