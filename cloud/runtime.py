"""Everything one platform process holds, built in the app's lifespan and injected (no globals).

:func:`open_runtime` builds it from :class:`cloud.settings.Settings`: the map, the core, the live
state, metrics, the audit log, the token issuer and users, the trust stage (pseudonyms, device
keys, revocations), and (optionally) the MQTT pipeline, the store writer and the audit chain
with their database pool, and the scenario runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from cloud.audit import AuditLog
from cloud.auth import TokenIssuer, UserRegistry
from cloud.core import PlatformCore
from cloud.metrics import Registry
from cloud.persist import StoreSink
from cloud.pipeline import LivePipeline
from cloud.replay import ReplayJobs
from cloud.scenarios import ScenarioRunner
from cloud.settings import Settings
from cloud.signalmap import SignalMap
from cloud.state import LiveState
from cloud.trustwiring import PlatformTrust
from cloud.wiring import build_core, load_city
from roadnet.model import RoadNetwork

LOG = logging.getLogger("xiangjiang.cloud")


@dataclass
class Runtime:
    """The parts of a running platform the API uses."""

    settings: Settings
    net: RoadNetwork
    core: PlatformCore
    state: LiveState
    registry: Registry
    audit: AuditLog
    tokens: TokenIssuer
    users: UserRegistry
    signals: SignalMap
    trust: PlatformTrust
    pipeline: LivePipeline | None = None
    store: StoreSink | None = None
    db_pool: Any = None
    scenarios: ScenarioRunner | None = None
    replays: ReplayJobs = field(default_factory=ReplayJobs)
    demo_password: str | None = None
    #: operator overrides of this process, newest last (the store keeps them all)
    override_log: list[dict[str, Any]] = field(default_factory=list)
    #: computed once per process (e.g. the map geometry served to dashboards)
    cache: dict[str, Any] = field(default_factory=dict)

    async def db_ok(self) -> bool | None:
        """None without a database; else whether it answers within a second."""
        if self.db_pool is None:
            return None
        try:
            async with asyncio.timeout(1.0), self.db_pool.connection() as conn:
                await conn.execute("SELECT 1")
        except Exception:
            return False
        return True


def users_for(settings: Settings) -> tuple[UserRegistry, str | None]:
    """The user registry and, in development/demo without a users file, the demo password."""
    if settings.users_file is not None:
        return UserRegistry.from_file(settings.users_file), None
    password = secrets.token_urlsafe(12)
    return UserRegistry.demo(password), password


def base_runtime(settings: Settings, net: RoadNetwork | None = None) -> Runtime:
    """A runtime without I/O (no broker, no database): what tests and the lock-step mode use."""
    net = net if net is not None else load_city(settings.map, settings.city)
    users, password = users_for(settings)
    audit = AuditLog()
    core = build_core(net, audit)
    return Runtime(
        settings=settings,
        net=net,
        core=core,
        state=LiveState(net),
        registry=Registry(),
        audit=audit,
        tokens=TokenIssuer(settings.token_secret.get_secret_value(), ttl_s=settings.token_ttl_s),
        users=users,
        signals=SignalMap(net),
        trust=PlatformTrust(settings),
        demo_password=password,
    )


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, live: bool = True, net: RoadNetwork | None = None
) -> AsyncIterator[Runtime]:
    """Build and start a runtime; ``live`` starts the MQTT pipeline and the scenario runner."""
    rt = base_runtime(settings, net)
    async with contextlib.AsyncExitStack() as stack:
        if settings.db:
            sink, rt.db_pool = await stack.enter_async_context(_database(settings, rt))
            rt.store = sink
            await rt.trust.refresh()
            refresh = asyncio.create_task(rt.trust.run_refresh(settings.trust_refresh_s), name="xj-trust-refresh")
            stack.callback(refresh.cancel)
        else:
            LOG.warning(
                "no database (XJ_DB unset): running without persistence; history, replay, the audit chain,"
                " device keys and revocations are kept in memory only"
            )
        _audit_configuration(rt)
        if live:
            rt.pipeline = await stack.enter_async_context(
                LivePipeline(settings, rt.core, rt.state, rt.registry, store=rt.store, trust=rt.trust)
            )
            rt.scenarios = ScenarioRunner(settings, rt.net, rt.state)
            stack.push_async_callback(rt.scenarios.stop)
        yield rt


def _audit_configuration(rt: Runtime) -> None:
    """Audit the configuration this process starts with (no secrets)."""
    s = rt.settings
    rt.audit.record(
        "xj-platform",
        "config.start",
        role="system",
        target=s.region_id,
        outcome="applied",
        details={
            "environment": s.environment,
            "retention_days": s.retention.model_dump(),
            "pseudonym_period_s": s.pseudonym_period_s,
            "signing_max_age_s": s.signing_max_age_s,
            "signing_devices": sorted(rt.trust.verifier.registry.signing),
            "database": s.db is not None,
        },
    )


@contextlib.asynccontextmanager
async def _database(settings: Settings, rt: Runtime) -> AsyncIterator[tuple[StoreSink, Any]]:
    from psycopg_pool import AsyncConnectionPool

    from store import AuditWriter, Pseudonymizer, StoreWriter, apply_migrations

    assert settings.db is not None
    await asyncio.to_thread(apply_migrations, settings.db)
    writer = StoreWriter(
        settings.db,
        spool_dir=settings.spool_dir,
        pseudonymize=Pseudonymizer(rt.trust.pseudonymizer),
        retention=settings.retention.policy(),
        overflow="spool",
    ).start()
    chain = AuditWriter(settings.db, pending_file=settings.spool_dir / "audit-pending.jsonl").start()
    rt.audit.chain = chain
    sink = StoreSink(writer, rt.net, settings.region_id, raw_detections=settings.store_raw_detections, trust=rt.trust)
    reg = rt.registry
    reg.gauge("xj_store_rows_written", "Rows committed by the store writer.", fn=lambda: writer.metrics.rows_written)
    reg.gauge("xj_store_queue_rows", "Rows queued for the store writer.", fn=lambda: writer.metrics.queue_rows)
    reg.gauge("xj_store_spool_records", "Chunks waiting in the outage spool.", fn=lambda: writer.metrics.spool_records)
    reg.gauge("xj_store_rows_dropped", "Rows the store writer dropped.", fn=lambda: writer.metrics.rows_dropped)
    reg.gauge("xj_store_errors", "Store writer errors.", fn=lambda: writer.metrics.errors)
    reg.gauge("xj_store_connected", "Store writer connected.", fn=lambda: float(writer.metrics.connected))
    reg.gauge("xj_audit_pending", "Audit entries waiting for the hash chain.", fn=lambda: chain.pending)
    reg.gauge("xj_audit_errors", "Audit chain write errors.", fn=lambda: chain.errors)
    pool = AsyncConnectionPool(settings.db, min_size=1, max_size=4, open=False, kwargs={"autocommit": True})
    await pool.open(wait=False)
    try:
        yield sink, pool
    finally:
        await pool.close()
        await writer.aclose(timeout=10.0)
        rt.audit.chain = None
        await asyncio.to_thread(chain.close, 10.0)
