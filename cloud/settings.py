"""Platform settings (environment variables ``XJ_*``), refusing unsafe defaults outside development.

Built once in ``xj serve`` / ``xj demo`` (or by a test) and handed to the app and the pipeline:
nothing here is a module-level singleton.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    pseudonym_key
        Key of the vehicle pseudonyms in storage (refused default outside development).
    region_id
        Region this process serves (written with tracks and lane states).
    """

    model_config = SettingsConfigDict(env_prefix="XJ_", extra="ignore")

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
    pseudonym_key: SecretStr = SecretStr(DEV_SECRET)
    region_id: str = "city"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Self:
        MqttUrl(self.mqtt)  # raises with what to fix
        if self.environment not in RELAXED_ENVIRONMENTS:
            if self.token_secret.get_secret_value() == DEV_SECRET or len(self.token_secret.get_secret_value()) < 32:
                raise ValueError(
                    f"environment={self.environment}: set XJ_TOKEN_SECRET to a random string of >= 32 characters"
                )
            if self.pseudonym_key.get_secret_value() == DEV_SECRET:
                raise ValueError(f"environment={self.environment}: set XJ_PSEUDONYM_KEY to a random secret")
            if self.users_file is None:
                raise ValueError(f"environment={self.environment}: set XJ_USERS_FILE (demo users are development-only)")
        return self

    @property
    def relaxed(self) -> bool:
        """Whether development conveniences (built-in secret, demo users) are allowed."""
        return self.environment in RELAXED_ENVIRONMENTS

    @property
    def mqtt_url(self) -> MqttUrl:
        """The parsed broker URL."""
        return MqttUrl(self.mqtt)
