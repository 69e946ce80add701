"""The MCP tools over streamable HTTP, behind a bearer token where one is set.

With ``CRUCIBLE_API_TOKEN`` set, every request must carry ``Authorization: Bearer <token>``
(compared in constant time), the rule the HTTP API follows, and the server may bind to any
address: that is how an agent on a laptop reaches ``crucible mcp`` on a GPU machine. Without a
token it binds to loopback only, where the SDK also checks the Host and Origin headers against
DNS rebinding.
"""

from __future__ import annotations

import hmac
from typing import Any

from mcp.server.mcpserver import MCPServer

MCP_PATH = "/mcp"

Scope = dict[str, Any]


class BearerTokenGate:
    """ASGI middleware: an HTTP request without the token gets 401 and never reaches the tools."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            await self._refuse(send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        given = next((value for name, value in scope.get("headers", ()) if name == b"authorization"), b"")
        return hmac.compare_digest(given, self._expected)

    @staticmethod
    async def _refuse(send: Any) -> None:
        body = b'{"error": "missing or wrong bearer token (CRUCIBLE_API_TOKEN)"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def serve_http(server: MCPServer, *, host: str, port: int, token: str | None) -> None:
    """Serve ``server`` at ``http://HOST:PORT/mcp`` under uvicorn until stopped."""
    import uvicorn

    app: Any = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    if token:
        app = BearerTokenGate(app, token)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).run()
