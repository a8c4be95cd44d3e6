"""``/auth``: OAuth2 password flow for users and devices; who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from cloud.api.deps import AnyUser, RuntimeDep
from cloud.api.errors import ApiError
from cloud.api.schemas import MePublic, TokenPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
def token(rt: RuntimeDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenPublic:
    """Exchange a user's (or device's) name and password for a bearer token."""
    user = rt.users.authenticate(form.username, form.password)
    if user is None:
        rt.audit.record(form.username, "auth.token", outcome="refused", reason="bad credentials")
        raise ApiError(401, "unauthenticated", "unknown user or wrong password")
    tok = rt.tokens.issue(user.username, user.role, vehicle_id=user.vehicle_id)
    return TokenPublic(access_token=tok, role=user.role.value, expires_in=int(rt.tokens.ttl_s))


@router.get("/me")
async def me(user: AnyUser) -> MePublic:
    """The caller's identity and role."""
    return MePublic(subject=user.subject, role=user.role.value, vehicle_id=user.vehicle_id, expires=user.expires)
