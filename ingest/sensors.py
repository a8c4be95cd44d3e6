"""Registry of sensor ids: each sensor key gets a small integer index, stable within the process."""

from __future__ import annotations


class SensorRegistry:
    """Assigns ``0, 1, 2, ...`` to sensor keys in order of first appearance.

    A key is ``"{kind}/{device_id}"`` or ``"{kind}/{device_id}:{sensor_id}"`` when one device
    reports several sensors (the ``sensor`` column of ``proto.DETECTION_DTYPE``).
    """

    __slots__ = ("_index", "_names")

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._names: tuple[str, ...] = ()

    def index(self, key: str) -> int:
        """The index of ``key``, assigned on first use."""
        i = self._index.get(key)
        if i is None:
            i = self._index[key] = len(self._index)
            self._names = (*self._names, key)
        return i

    def get(self, key: str) -> int | None:
        """The index of ``key`` if registered."""
        return self._index.get(key)

    @property
    def names(self) -> tuple[str, ...]:
        """Keys by index."""
        return self._names

    def __len__(self) -> int:
        return len(self._index)
