"""The bearer token every route but ``/healthz`` requires.

With ``CRUCIBLE_API_TOKEN`` set, a request must carry ``Authorization: Bearer <token>``; a
missing or wrong one gets 401 (compared in constant time). Loopback clients are no exception then.
With no token set, only loopback clients (127.0.0.0/8, ::1) are served and any other gets 401:
``crucible serve`` binds to loopback alone in that case, so this is the second wall, not the first.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.state import ApiState, api_state

bearer = HTTPBearer(auto_error=False, description="CRUCIBLE_API_TOKEN, as Authorization: Bearer <token>")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def require_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    state: ApiState = Depends(api_state),
) -> None:
    """The dependency that guards every route but /healthz."""
    expected = state.settings.api_token
    if expected is None:
        if is_loopback(request.client.host if request.client else None):
            return
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "no CRUCIBLE_API_TOKEN is set on the server, so only loopback clients are served",
            headers=CHALLENGE,
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "send Authorization: Bearer <CRUCIBLE_API_TOKEN>", headers=CHALLENGE
        )
    if not hmac.compare_digest(
        credentials.credentials.encode("utf-8", "surrogateescape"),
        expected.get_secret_value().encode("utf-8", "surrogateescape"),
    ):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong bearer token", headers=CHALLENGE)
