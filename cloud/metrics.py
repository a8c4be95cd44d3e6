"""Hand-written Prometheus metrics of the platform process (text exposition format 0.0.4).

Small on purpose: labelled counters and gauges, and histograms with fixed buckets that can also
report quantiles (for KPIs and the benchmark). Not thread-safe: update from the event loop.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Final

#: Latency buckets, seconds (upper bounds; +Inf is implied).
LATENCY_BUCKETS_S: Final = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{_esc(v)}"' for n, v in zip(names, values, strict=True)) + "}"


class Counter:
    """A monotonic counter, optionally labelled."""

    kind = "counter"

    def __init__(self, name: str, help_: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.label_names = name, help_, labels
        self.values: dict[tuple[str, ...], float] = {} if labels else {(): 0.0}

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        """Add ``amount`` to the series of ``labels``."""
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def get(self, *labels: str) -> float:
        """Current value of one series (0 when never set)."""
        return self.values.get(labels, 0.0)

    def samples(self) -> Iterable[str]:
        """Exposition lines."""
        for lv, v in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.label_names, lv)} {_fmt(v)}"


class Gauge(Counter):
    """A value that goes up and down; ``fn`` reads it at exposition time when given."""

    kind = "gauge"

    def __init__(
        self, name: str, help_: str, labels: tuple[str, ...] = (), fn: Callable[[], float] | None = None
    ) -> None:
        super().__init__(name, help_, labels)
        self.fn = fn

    def set(self, value: float, *labels: str) -> None:
        """Set the series of ``labels``."""
        self.values[labels] = float(value)

    def samples(self) -> Iterable[str]:
        """Exposition lines."""
        if self.fn is not None:
            self.values[()] = float(self.fn())
        return super().samples()


class Histogram:
    """Observations in fixed buckets; :meth:`quantile` estimates a quantile by interpolation."""

    kind = "histogram"

    def __init__(self, name: str, help_: str, buckets: tuple[float, ...] = LATENCY_BUCKETS_S) -> None:
        self.name, self.help = name, help_
        self.bounds = tuple(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Record one observation (same unit as the buckets)."""
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def quantile(self, q: float) -> float:
        """Estimated ``q`` quantile (linear within the bucket); NaN without observations."""
        if self.count == 0:
            return math.nan
        need, acc = q * self.count, 0
        lo = 0.0
        for i, c in enumerate(self.counts):
            hi = self.bounds[i] if i < len(self.bounds) else math.inf
            if acc + c >= need and c:
                if math.isinf(hi):
                    return lo
                return lo + (hi - lo) * (need - acc) / c
            acc += c
            lo = hi
        return lo

    def samples(self) -> Iterable[str]:
        """Exposition lines."""
        acc = 0
        for i, c in enumerate(self.counts):
            acc += c
            le = _fmt(self.bounds[i]) if i < len(self.bounds) else "+Inf"
            yield f'{self.name}_bucket{{le="{le}"}} {acc}'
        yield f"{self.name}_sum {_fmt(self.sum)}"
        yield f"{self.name}_count {self.count}"


Metric = Counter | Gauge | Histogram


class Registry:
    """The metrics of one process; :meth:`render` adds text from other sources (ingest, ...)."""

    def __init__(self) -> None:
        self._metrics: list[Metric] = []
        self.extra: list[Callable[[], str]] = []

    def counter(self, name: str, help_: str, labels: tuple[str, ...] = ()) -> Counter:
        """Register a counter."""
        m = Counter(name, help_, labels)
        self._metrics.append(m)
        return m

    def gauge(
        self, name: str, help_: str, labels: tuple[str, ...] = (), fn: Callable[[], float] | None = None
    ) -> Gauge:
        """Register a gauge (read from ``fn`` at exposition when given)."""
        m = Gauge(name, help_, labels, fn)
        self._metrics.append(m)
        return m

    def histogram(self, name: str, help_: str, buckets: tuple[float, ...] = LATENCY_BUCKETS_S) -> Histogram:
        """Register a histogram."""
        m = Histogram(name, help_, buckets)
        self._metrics.append(m)
        return m

    def render(self) -> str:
        """All metrics in the Prometheus text format."""
        out: list[str] = []
        for m in self._metrics:
            out.append(f"# HELP {m.name} {m.help}")
            out.append(f"# TYPE {m.name} {m.kind}")
            out.extend(m.samples())
        text = "\n".join(out) + "\n"
        for fn in self.extra:
            text += fn()
        return text
