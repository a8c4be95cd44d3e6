"""Ingest metrics: counters by reason, messages/s (EWMA), lateness histogram, queue depths; Prometheus text."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from typing import Final

from ingest.reasons import Reason

#: Upper bounds of the lateness histogram buckets (receive - sent), ms; the last is +inf.
LATENESS_BUCKETS_MS: Final = (
    0.0,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
    1000.0,
    2000.0,
    5000.0,
    math.inf,
)


class Metrics:
    """Plain counters and gauges of one ingest pipeline; no I/O, cheap per message.

    Attributes
    ----------
    received
        Messages fed.
    accepted
        Accepted messages by body kind name.
    rejected
        Rejected messages by :class:`Reason` (every reason present, 0 when none).
    rate
        Messages received per second, exponentially weighted over ``tau_s`` (updated by :meth:`tick`).
    lateness_counts, lateness_sum_ms
        Histogram of receive - sent time of accepted envelopes over :data:`LATENESS_BUCKETS_MS`
        (non-cumulative counts) and the sum of the observations, ms.
    gauges
        Current values set by the owner: queue depths, held messages, senders.
    counters
        Other monotonic counters set by the owner (sequence gaps, reorders, dead letters dropped, ...).
    """

    def __init__(self, *, tau_s: float = 5.0) -> None:
        self.tau_s = tau_s
        self.received = 0
        self.accepted: dict[str, int] = {}
        self.rejected: dict[Reason, int] = dict.fromkeys(Reason, 0)
        self.rate = 0.0
        self.lateness_counts = [0] * len(LATENESS_BUCKETS_MS)
        self.lateness_sum_ms = 0.0
        self.gauges: dict[str, float] = {}
        self.counters: dict[str, float] = {}
        self._last_tick_ns: int | None = None
        self._last_received = 0

    @property
    def rejected_total(self) -> int:
        """All rejections."""
        return sum(self.rejected.values())

    def count(self, name: str, n: float = 1) -> None:
        """Add ``n`` to the counter ``name`` (created at zero)."""
        self.counters[name] = self.counters.get(name, 0) + n

    def accept(self, kind: str, lateness_ms: float | None) -> None:
        """Count one accepted message and its lateness (ms; ``None`` when it carries no send time)."""
        self.accepted[kind] = self.accepted.get(kind, 0) + 1
        if lateness_ms is not None:
            self.lateness_counts[bisect_left(LATENESS_BUCKETS_MS, lateness_ms)] += 1
            self.lateness_sum_ms += lateness_ms

    def tick(self, now_ns: int) -> float:
        """Update the messages/s EWMA at ``now_ns``; returns it."""
        last = self._last_tick_ns
        self._last_tick_ns = now_ns
        if last is None or now_ns <= last:
            self._last_received = self.received
            return self.rate
        dt = (now_ns - last) / 1e9
        inst = (self.received - self._last_received) / dt
        self._last_received = self.received
        alpha = 1.0 - math.exp(-dt / self.tau_s)
        self.rate += alpha * (inst - self.rate)
        return self.rate

    def lateness_quantile(self, q: float) -> float:
        """Upper bucket bound (ms) under which a fraction ``q`` of lateness observations fall (NaN if none)."""
        total = sum(self.lateness_counts)
        if total == 0:
            return math.nan
        need, acc = q * total, 0
        for bound, c in zip(LATENESS_BUCKETS_MS, self.lateness_counts, strict=True):
            acc += c
            if acc >= need:
                return bound
        return math.inf


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v)) if not float(v).is_integer() else str(int(v))


def _family(out: list[str], name: str, kind: str, help_: str, samples: Iterable[tuple[str, float]]) -> None:
    out.append(f"# HELP {name} {help_}")
    out.append(f"# TYPE {name} {kind}")
    out.extend(f"{name}{labels} {_fmt(v)}" for labels, v in samples)


def render_prometheus(
    m: Metrics, *, prefix: str = "xj_ingest", clock_offsets_s: Mapping[str, float] | None = None
) -> str:
    """The metrics in the Prometheus text exposition format (version 0.0.4).

    Parameters
    ----------
    m
        The metrics to render.
    prefix
        Metric name prefix.
    clock_offsets_s
        Optional per-sensor clock-offset estimates, s, exported as a gauge labelled ``sensor``.
    """
    out: list[str] = []
    _family(out, f"{prefix}_messages_received_total", "counter", "Messages received.", [("", m.received)])
    _family(
        out,
        f"{prefix}_messages_accepted_total",
        "counter",
        "Messages accepted, by body kind.",
        [(f'{{kind="{_esc(k)}"}}', v) for k, v in sorted(m.accepted.items())],
    )
    _family(
        out,
        f"{prefix}_messages_rejected_total",
        "counter",
        "Messages set aside, by reason.",
        [(f'{{reason="{r.value}"}}', v) for r, v in m.rejected.items()],
    )
    _family(out, f"{prefix}_messages_per_second", "gauge", "Messages received per second (EWMA).", [("", m.rate)])
    cum, samples = 0, []
    for bound, c in zip(LATENESS_BUCKETS_MS, m.lateness_counts, strict=True):
        cum += c
        samples.append((f'_bucket{{le="{_fmt(bound / 1000.0)}"}}', float(cum)))
    samples += [("_sum", m.lateness_sum_ms / 1000.0), ("_count", float(cum))]
    out.append(f"# HELP {prefix}_lateness_seconds Receive time minus sender time of accepted messages.")
    out.append(f"# TYPE {prefix}_lateness_seconds histogram")
    out.extend(f"{prefix}_lateness_seconds{suffix} {_fmt(v)}" for suffix, v in samples)
    for name, v in sorted(m.counters.items()):
        _family(out, f"{prefix}_{name}_total", "counter", f"Ingest {name.replace('_', ' ')}.", [("", v)])
    for name, v in sorted(m.gauges.items()):
        _family(out, f"{prefix}_{name}", "gauge", f"Ingest {name.replace('_', ' ')}.", [("", v)])
    if clock_offsets_s:
        _family(
            out,
            f"{prefix}_clock_offset_seconds",
            "gauge",
            "Estimated sensor clock offset (platform minus sender, plus least network delay).",
            [(f'{{sensor="{_esc(k)}"}}', v) for k, v in sorted(clock_offsets_s.items())],
        )
    return "\n".join(out) + "\n"
