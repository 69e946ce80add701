"""``python -m service.mcp --http``: the same tools over streamable HTTP, on loopback only unless
a token guards every request."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from service.mcp.__main__ import main

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def http_server(env: dict[str, str], home: Path, port: int) -> AsyncIterator[str]:
    """The server in a process of its own, once it listens; yields its URL."""
    (home / "data").mkdir(exist_ok=True)
    with (home / "http.log").open("w") as log:
        process = await anyio.open_process(
            [sys.executable, "-m", "service.mcp", "--http", "--port", str(port), "--workers", "0"],
            env=env,
            cwd=home,
            stdout=log,
            stderr=log,
        )
        try:
            url = f"http://127.0.0.1:{port}/mcp"
            with anyio.fail_after(120):
                while True:
                    try:
                        async with httpx.AsyncClient() as client:
                            await client.get(url)
                        break
                    except httpx.TransportError:
                        assert process.returncode is None, (home / "http.log").read_text()
                        await anyio.sleep(0.2)
            yield url
        finally:
            process.terminate()
            await process.wait()


async def test_the_tools_are_served_over_streamable_http(server_env, mcp_home: Path, free_tcp_port: int):
    async with (
        http_server(server_env, mcp_home, free_tcp_port) as url,
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {t.name for t in (await session.list_tools()).tools}
        assert {"evaluate_candidate", "start_run", "apply_kernel"} <= tools
        result = await session.call_tool("run_status", {"run_id": 424242})
        assert result.is_error


async def test_with_a_token_every_request_must_carry_it(server_env, mcp_home: Path, free_tcp_port: int):
    env = {**server_env, "CRUCIBLE_API_TOKEN": "s3cret-token"}
    async with http_server(env, mcp_home, free_tcp_port) as url:
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
                refused = await client.post(
                    url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers
                )
                assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        authorized = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token"})
        async with (
            authorized,
            streamable_http_client(url, http_client=authorized) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            assert "get_kernel" in {t.name for t in (await session.list_tools()).tools}


def test_http_refuses_an_address_beyond_loopback_without_a_token(server_env, monkeypatch, capsys):
    for key, value in server_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CRUCIBLE_API_TOKEN", raising=False)
    assert main(["--http", "--host", "0.0.0.0"]) == 2
    assert "refusing to serve MCP on 0.0.0.0 without a token" in capsys.readouterr().err
