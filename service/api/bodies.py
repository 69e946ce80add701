"""Request size limits: a body over the app's limit gets 413 before anything parses it.

A pure ASGI middleware. It reads the body (chunked included) up to the limit and hands the
buffered body to the app; bodies here are small JSON documents, so buffering them costs nothing
worth streaming for. A body that goes over (or declares a ``Content-Length`` over) is refused
with 413 after the rest of it has been read and dropped, up to ``DRAIN_BYTES``, so that the
client, still sending, gets the answer rather than a reset connection; past that the answer
goes out at once and the connection closes.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_BYTES = 64 * 1024 * 1024


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            more = bool(message.get("more_body", False))
            size += len(chunk)
            if size > self.max_bytes or (declared is not None and declared > self.max_bytes):
                await self._refuse(size, more, receive, send)
                return
            chunks.append(chunk)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, size: int, more: bool, receive: Receive, send: Send) -> None:
        while more and size <= DRAIN_BYTES:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        payload = json.dumps({"error": f"the request body is over the limit of {self.max_bytes} bytes"})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload.encode()})


def _content_length(scope: Scope) -> int | None:
    headers: list[Any] = scope.get("headers", [])
    for key, value in headers:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
