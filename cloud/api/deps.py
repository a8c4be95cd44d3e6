"""Dependency aliases of the routes: the runtime, the caller, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from cloud.api.errors import ApiError
from cloud.auth import Principal, Role, TokenError
from cloud.runtime import Runtime

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_current_user(rt: RuntimeDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal:
    """The caller of a bearer token; 401 without a valid one."""
    if not token:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> (POST /auth/token gives one)")
    try:
        return rt.tokens.verify(token)
    except TokenError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from None


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the others)."""
    allowed = frozenset(roles)

    def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise ApiError(403, "forbidden", f"role {user.role.value} may not do this (allowed: {names})")
        return user

    return check


#: Who may do what (the README's table is generated from the same sets).
READ_PICTURE = (Role.OPERATOR, Role.VIEWER, Role.ENGINEER)
OPERATE = (Role.OPERATOR,)
OVERSEE = (Role.OPERATOR, Role.ENGINEER)
ENGINEER = (Role.ENGINEER,)
ADVISORIES = (Role.OBU, Role.OPERATOR, Role.ENGINEER)
SPAT = (Role.OBU, Role.OPERATOR, Role.VIEWER, Role.ENGINEER)
PARKING = (Role.PARKING, Role.OBU, Role.OPERATOR, Role.VIEWER, Role.ENGINEER)
ANYONE = tuple(Role)
#: resolve a pseudonym to a vehicle (an operator handling an incident; audited)
RESOLVE = (Role.OPERATOR,)
#: an owner's revocation: the vehicle's own OBU token, or staff acting for the owner
REVOKE = (Role.OBU, Role.OPERATOR, Role.ENGINEER)

PictureReader = Annotated[Principal, Depends(require(*READ_PICTURE))]
Operator = Annotated[Principal, Depends(require(*OPERATE))]
Overseer = Annotated[Principal, Depends(require(*OVERSEE))]
Engineer = Annotated[Principal, Depends(require(*ENGINEER))]
AdvisoryReader = Annotated[Principal, Depends(require(*ADVISORIES))]
SpatReader = Annotated[Principal, Depends(require(*SPAT))]
ParkingReader = Annotated[Principal, Depends(require(*PARKING))]
AnyUser = Annotated[Principal, Depends(require(*ANYONE))]
Resolver = Annotated[Principal, Depends(require(*RESOLVE))]
Revoker = Annotated[Principal, Depends(require(*REVOKE))]
