"""Request and response bodies (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenPublic(BaseModel):
    """An issued bearer token."""

    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int


class MePublic(BaseModel):
    """Who the token belongs to."""

    subject: str
    role: str
    vehicle_id: str | None
    expires: float


class OverrideCreate(BaseModel):
    """An operator's override: kind, target, how long, and why."""

    model_config = ConfigDict(extra="forbid")

    junction_id: str = Field(min_length=1, max_length=64)
    kind: Literal["hold", "force", "program", "all_red", "release"]
    phase_index: int = Field(0, ge=0, le=63)
    program_id: str = Field("", max_length=64)
    duration_s: float = Field(60.0, ge=1.0, le=3600.0)
    reason: str = Field(min_length=3, max_length=500)


class OverridePublic(BaseModel):
    """An override as audited: what was asked, by whom, and the safety layer's outcome."""

    override_id: str
    junction_id: str
    kind: str
    phase_index: int
    program_id: str
    duration_s: float
    issued: float
    expires: float
    operator: str
    reason: str
    accepted: bool
    outcome: str


class ScenarioCreate(BaseModel):
    """Start a simulated scenario in real time against this platform."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = "city"
    duration_s: float | None = Field(None, gt=0.0, le=24 * 3600.0)
    seed: int = Field(1, ge=0)


class ReplayCreate(BaseModel):
    """Replay the stored window ``[from, to)`` (s since the epoch)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: float = Field(alias="from")
    to: float
    tick_s: float = Field(0.1, gt=0.0, le=5.0)


class Page(BaseModel):
    """A list answer."""

    items: list[dict[str, Any]]
    count: int


#: A pseudonym as ``trust.Pseudonymizer`` writes them: "p" + 16 lower-case base32 characters.
PSEUDONYM_PATTERN = r"^p[a-z2-7]{16}$"


class IdentityResolve(BaseModel):
    """Which pseudonym to resolve to its vehicle, and why (audited)."""

    model_config = ConfigDict(extra="forbid")

    pseudonym: str = Field(pattern=PSEUDONYM_PATTERN)
    reason: str = Field(min_length=3, max_length=500)


class RevocationCreate(BaseModel):
    """An owner withdraws consent for a vehicle: its stored history goes, its future data is dropped."""

    model_config = ConfigDict(extra="forbid")

    vehicle_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=3, max_length=500)


class DeviceKeyCreate(BaseModel):
    """A device's public signing key (Ed25519 or ECDSA P-256), PEM text or base64 of its DER form."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["rsu", "lamp", "tsc", "obu"] = "rsu"
    key_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    public_key: str = Field(min_length=16, max_length=4096)
    algorithm: Literal["ed25519", "p256"] | None = None
    valid_from: float | None = Field(None, description="s since the epoch; default now")
    valid_to: float | None = Field(None, description="s since the epoch; default until retired")
    require_signing: bool = True
