"""Platform settings (environment variables ``XJ_*`` and an optional TOML file), refusing unsafe
defaults outside development.

Sources, strongest first: keyword arguments (the command line), environment variables
(``XJ_<NAME>``; nested sections as ``XJ_RETENTION__TRACKS=3``), the TOML file named by
``XJ_CONFIG`` (top-level keys and sections such as ``[retention]``), the defaults.

Built once in ``xj serve`` / ``xj demo`` (or by a test) and handed to the app and the pipeline:
nothing here is a module-level singleton.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from store.retention import RetentionPolicy
from trust import Pseudonymizer

#: The built-in token secret: fine on a laptop, refused anywhere else.
DEV_SECRET = "xiangjiang-development-secret-do-not-deploy"
#: Environments in which the built-in secret and demo users are allowed.
RELAXED_ENVIRONMENTS = ("development", "demo")

Environment = Literal["development", "demo", "staging", "production"]


class MqttUrl:
    """A parsed ``mqtt://[user[:password]@]host[:port]`` URL.

    Parameters
    ----------
    url
        The URL; the scheme may be ``mqtt`` or ``tcp``; the port defaults to 1883.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt:// (TLS is terminated in front of the broker)")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r} has no host")
        self.host: str = parts.hostname
        self.port: int = parts.port or 1883
        self.username: str | None = unquote(parts.username) if parts.username else None
        self.password: str | None = unquote(parts.password) if parts.password else None

    def __repr__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


class RetentionSettings(BaseModel):
    """How long each kind of data is kept, days (``[retention]`` in the TOML file).

    Aggregates must outlive the raw data they summarise; the store enforces these periods
    (daily partitions dropped on PostgreSQL, TimescaleDB retention policies where present).

    Attributes
    ----------
    raw_detections
        Roadside detections as received.
    tracks
        Fused tracks.
    vehicle_reports
        BSMs and the advisories sent to vehicles.
    aggregates
        Lane, edge and signal states.
    events
        Incidents (and the sealed pseudonym records that let an incident be traced).
    audit
        The audit trail and the overrides (five years).
    """

    model_config = ConfigDict(extra="forbid")

    raw_detections: float = Field(2.0, gt=0.0)
    tracks: float = Field(7.0, gt=0.0)
    vehicle_reports: float = Field(7.0, gt=0.0)
    aggregates: float = Field(90.0, gt=0.0)
    events: float = Field(365.0, gt=0.0)
    audit: float = Field(5 * 365.0, gt=0.0)

    @model_validator(mode="after")
    def _aggregates_outlive_raw(self) -> Self:
        self.policy()  # raises ValueError naming what is kept too long
        return self

    def policy(self) -> RetentionPolicy:
        """The store's :class:`store.RetentionPolicy` for these periods."""
        return RetentionPolicy.from_days(self.model_dump())


class Settings(BaseSettings):
    """Everything the platform process needs to start.

    Attributes
    ----------
    environment
        ``development`` and ``demo`` allow the built-in token secret and demo users;
        ``staging`` / ``production`` refuse them.
    mqtt
        Broker URL (``mqtt://user:password@host:port``).
    mqtt_protocol
        ``5`` (Mosquitto, EMQX) or ``3.1.1`` (the embedded demo broker speaks only 3.1.1).
    db
        PostgreSQL URL; ``None`` runs without persistence (logged at start, shown in /readyz).
    map
        A ``.xjmap`` or SUMO ``.net.xml``; ``None`` uses the built-in generated city.
    city
        Built-in city when ``map`` is None: ``grid`` (3 x 3 signalised grid) or ``corridor``.
    tick_s
        Fusion/control period, s.
    token_secret
        HMAC key of the API's bearer tokens (>= 32 characters outside development).
    token_ttl_s
        Lifetime of issued tokens, s.
    users_file
        JSON list of API users (see :mod:`cloud.auth`); demo users when None in development.
    cors_origins
        Origins allowed by CORS; empty (the default) means no CORS headers at all.
    ws_hz
        Rate of the live-picture WebSocket, messages/s per client.
    spool_dir
        Where the store writer spools during a database outage.
    store_raw_detections
        Also persist every raw detection (needed by replay).
    pseudonym_secret
        Master secret of the vehicle pseudonyms (``XJ_PSEUDONYM_SECRET``, also read as
        ``XJ_PSEUDONYM_KEY``): >= 32 characters, kept out of the database; the built-in one is
        refused outside development/demo. Changing it unlinks every stored pseudonym from its
        vehicle (and makes stored vault records unreadable).
    pseudonym_period_s
        Rotation period of the pseudonyms, s (a vehicle's pseudonym changes at each multiple).
        Keep it once data is stored: a revocation finds a vehicle's past pseudonyms by the
        current period (and secret), so changing either leaves older history unreachable to it
        until retention removes it.
    retention
        Retention per kind of data (:class:`RetentionSettings`).
    signing_max_age_s
        A signed frame sent longer ago than this is a replay (``replay_old``).
    trust_refresh_s
        How often revocations and device keys are reloaded from the database (other processes'
        changes), s.
    region_id
        Region this process serves (written with tracks and lane states).
    """

    model_config = SettingsConfigDict(env_prefix="XJ_", extra="ignore", env_nested_delimiter="__")

    environment: Environment = "development"
    mqtt: str = "mqtt://127.0.0.1:1883"
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    db: str | None = None
    map: str | None = None
    city: Literal["grid", "corridor"] = "grid"
    tick_s: float = Field(0.1, gt=0.0, le=5.0)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    token_secret: SecretStr = SecretStr(DEV_SECRET)
    token_ttl_s: int = Field(8 * 3600, gt=0)
    users_file: Path | None = None
    cors_origins: list[str] = Field(default_factory=list)
    ws_hz: float = Field(4.0, gt=0.0, le=20.0)
    spool_dir: Path = Path.home() / ".cache" / "xiangjiang" / "spool"
    store_raw_detections: bool = True
    pseudonym_secret: SecretStr = Field(
        SecretStr(DEV_SECRET),
        validation_alias=AliasChoices("pseudonym_secret", "XJ_PSEUDONYM_SECRET", "pseudonym_key", "XJ_PSEUDONYM_KEY"),
    )
    pseudonym_period_s: int = Field(86_400, ge=60)
    retention: RetentionSettings = Field(default_factory=lambda: RetentionSettings.model_validate({}))
    signing_max_age_s: float = Field(30.0, gt=0.0)
    trust_refresh_s: float = Field(10.0, gt=0.0)
    region_id: str = "city"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then ``XJ_*`` variables, then the ``XJ_CONFIG`` TOML file."""
        sources = [init_settings, env_settings]
        path = os.environ.get("XJ_CONFIG")
        if path:
            if not Path(path).is_file():
                raise ValueError(f"XJ_CONFIG={path}: no such file (a TOML settings file)")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return (*sources, dotenv_settings, file_secret_settings)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Self:
        MqttUrl(self.mqtt)  # raises with what to fix
        if self.environment not in RELAXED_ENVIRONMENTS:
            if self.token_secret.get_secret_value() == DEV_SECRET or len(self.token_secret.get_secret_value()) < 32:
                raise ValueError(
                    f"environment={self.environment}: set XJ_TOKEN_SECRET to a random string of >= 32 characters"
                )
            secret = self.pseudonym_secret.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError(
                    f"environment={self.environment}: set XJ_PSEUDONYM_SECRET to a random string of >= 32 characters"
                )
            if self.users_file is None:
                raise ValueError(f"environment={self.environment}: set XJ_USERS_FILE (demo users are development-only)")
        return self

    @property
    def relaxed(self) -> bool:
        """Whether development conveniences (built-in secret, demo users) are allowed."""
        return self.environment in RELAXED_ENVIRONMENTS

    def pseudonymizer(self) -> Pseudonymizer:
        """The platform's one pseudonymiser (:class:`trust.Pseudonymizer`) from the secret."""
        return Pseudonymizer(self.pseudonym_secret.get_secret_value().encode("utf-8"), self.pseudonym_period_s)

    @property
    def mqtt_url(self) -> MqttUrl:
        """The parsed broker URL."""
        return MqttUrl(self.mqtt)
