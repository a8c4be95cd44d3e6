"""Every endpoint x every role: allowed roles get through, the others get 403, no token 401;
an OBU token reads only its own vehicle; every error is JSON with a reason."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from cloud.api import create_app
from cloud.auth import Role
from cloud.runtime import Runtime, base_runtime
from cloud.settings import Settings
from trust import generate_key, public_bytes

OP, V, P, B, E = Role.OPERATOR, Role.VIEWER, Role.PARKING, Role.OBU, Role.ENGINEER
ALL = (OP, V, P, B, E)
OWN = "veh-1"
PUBLIC_KEY = base64.b64encode(public_bytes(generate_key())).decode()

#: (method, path, json body, roles allowed)
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, tuple[Role, ...]]] = [
    ("GET", "/auth/me", None, ALL),
    ("GET", "/api/v1/picture", None, (OP, V, E)),
    ("GET", "/api/v1/junctions", None, (OP, V, E)),
    ("GET", "/api/v1/junctions/J1_1", None, (OP, V, E)),
    ("GET", "/api/v1/events", None, (OP, V, E)),
    ("POST", "/api/v1/overrides", {"junction_id": "J1_1", "kind": "hold", "duration_s": 20, "reason": "test"}, (OP,)),
    ("GET", "/api/v1/overrides", None, (OP, V, E)),
    ("GET", "/api/v1/history/tracks", None, (OP, E)),
    ("GET", "/api/v1/audit", None, (OP, E)),
    ("GET", f"/api/v1/obu/{OWN}/advisories", None, (B, OP, E)),
    ("GET", "/api/v1/spat/near?lat=28.1946&lon=112.968&radius=300", None, (B, OP, V, E)),
    ("GET", "/api/v1/parking/near?lat=28.1946&lon=112.968&k=2", None, (P, B, OP, V, E)),
    ("GET", "/api/v1/sim", None, (E,)),
    ("POST", "/api/v1/sim", {"scenario": "city"}, (E,)),
    ("DELETE", "/api/v1/sim", None, (E,)),
    ("GET", "/api/v1/kpis", None, (OP, V, E)),
    ("POST", "/api/v1/replay", {"from": 1.0e9, "to": 1.0e9 + 60}, (E,)),
    ("GET", "/api/v1/replay/nope", None, (E,)),
    ("GET", "/api/v1/map", None, ALL),
    ("POST", "/api/v1/identity/resolve", {"pseudonym": "p" + "a" * 16, "reason": "incident 7"}, (OP,)),
    ("POST", "/api/v1/revocations", {"vehicle_id": OWN, "reason": "owner asked"}, (B, OP, E)),
    ("GET", "/api/v1/devices/rsu-1/keys", None, (E,)),
    ("POST", "/api/v1/devices/rsu-1/keys", {"key_id": "k1", "public_key": PUBLIC_KEY}, (E,)),
    ("DELETE", "/api/v1/devices/rsu-1/keys/k1", None, (E,)),
    ("GET", "/api/v1/audit/verify", None, (OP, E)),
]


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return base_runtime(Settings())


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), runtime=runtime)) as c:
        yield c


def _headers(rt: Runtime, role: Role) -> dict[str, str]:
    tok = rt.tokens.issue(f"t-{role.value}", role, vehicle_id=OWN if role is Role.OBU else None)
    return {"Authorization": f"Bearer {tok}"}


def _call(c: TestClient, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
    return c.request(method, path, json=body, headers=headers)


CASES = [(m, p, b, allowed, r) for (m, p, b, allowed) in ENDPOINTS for r in ALL]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "role"),
    CASES,
    ids=[f"{m} {p.split('?')[0]} as {r.value}" for m, p, _, _, r in CASES],
)
def test_endpoint_role(
    client: TestClient, runtime: Runtime, method: str, path: str, body: Any, allowed: tuple[Role, ...], role: Role
) -> None:
    r = _call(client, method, path, body, _headers(runtime, role))
    if role in allowed:
        assert r.status_code not in (401, 403), r.text
    else:
        assert r.status_code == 403, r.text
        assert r.json()["error"]["reason"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [(m, p, b) for m, p, b, _ in ENDPOINTS],
    ids=[f"{m} {p.split('?')[0]}" for m, p, _, _ in ENDPOINTS],
)
def test_endpoint_without_token_is_401(client: TestClient, method: str, path: str, body: Any) -> None:
    r = _call(client, method, path, body, {})
    assert r.status_code == 401
    assert r.json()["error"]["reason"] == "unauthenticated"
    r = _call(client, method, path, body, {"Authorization": "Bearer forged.token.here"})
    assert r.status_code == 401


def test_obu_sees_only_its_own_vehicle(client: TestClient, runtime: Runtime) -> None:
    h = _headers(runtime, Role.OBU)
    assert client.get(f"/api/v1/obu/{OWN}/advisories", headers=h).status_code == 200
    r = client.get("/api/v1/obu/someone-else/advisories", headers=h)
    assert r.status_code == 403 and "own vehicle" in r.json()["error"]["detail"]
    assert (
        client.get("/api/v1/obu/someone-else/advisories", headers=_headers(runtime, Role.OPERATOR)).status_code == 200
    )


def test_errors_are_json_with_a_reason(client: TestClient, runtime: Runtime) -> None:
    h = _headers(runtime, Role.OPERATOR)
    r = client.get("/api/v1/junctions/nowhere", headers=h)
    assert r.status_code == 404 and r.json()["error"]["reason"] == "not_found"
    r = client.post("/api/v1/overrides", headers=h, json={"junction_id": "J1_1", "kind": "explode"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["reason"] == "invalid_request" and {d["where"] for d in err["detail"]} >= {"body.kind", "body.reason"}
    r = client.get("/api/v1/parking/near?lat=999&lon=0", headers=h)
    assert r.status_code == 422 and r.json()["error"]["reason"] == "invalid_request"
    r = client.get("/api/v1/no/such/thing", headers=h)
    assert r.status_code == 404 and r.json()["error"]["reason"] == "not_found"
    r = client.get("/api/v1/history/tracks", headers=h)
    assert r.status_code == 503 and r.json()["error"]["reason"] == "unavailable"


def test_override_refused_by_safety_is_audited(client: TestClient, runtime: Runtime) -> None:
    h = _headers(runtime, Role.OPERATOR)
    # phase 1 of the generated program is an amber: forcing it would skip a green
    r = client.post(
        "/api/v1/overrides",
        headers=h,
        json={"junction_id": "J0_0", "kind": "force", "phase_index": 1, "reason": "amber?"},
    )
    assert r.status_code == 409 and r.json()["error"]["reason"] == "rejected"
    audit = client.get("/api/v1/audit", headers=h).json()["items"]
    assert any(
        e["action"].startswith("override")
        and e["reason"] == "amber?"
        and ("reject" in e["outcome"] or "refused" in e["outcome"])
        for e in audit
    )


def test_token_endpoint_password_flow(client: TestClient, runtime: Runtime) -> None:
    assert runtime.demo_password
    r = client.post("/auth/token", data={"username": "viewer", "password": runtime.demo_password})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["role"] == "viewer"
    r = client.post("/auth/token", data={"username": "viewer", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"]["reason"] == "unauthenticated"


def test_websocket_roles(client: TestClient, runtime: Runtime) -> None:
    tok = runtime.tokens.issue("v", Role.VIEWER)
    with client.websocket_connect(f"/api/v1/ws/picture?token={tok}") as ws:
        assert "vehicles" in ws.receive_json()
    for token, code in (("", 4401), (runtime.tokens.issue("p", Role.PARKING), 4403)):
        with (
            pytest.raises(WebSocketDisconnect) as e,
            client.websocket_connect(f"/api/v1/ws/picture?token={token}") as ws,
        ):
            ws.receive_json()
        assert e.value.code == code


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/overrides" in spec["paths"] and "/api/v1/map" in spec["paths"]
