"""``python -m service.mcp --http``: the same tools over streamable HTTP, on loopback only."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from service.mcp.__main__ import main

pytestmark = pytest.mark.anyio


async def test_the_tools_are_served_over_streamable_http(server_env, mcp_home: Path, free_tcp_port: int):
    (mcp_home / "data").mkdir(exist_ok=True)
    with (mcp_home / "http.log").open("w") as log:
        process = await anyio.open_process(
            [sys.executable, "-m", "service.mcp", "--http", "--port", str(free_tcp_port)],
            env=server_env,
            cwd=mcp_home,
            stdout=log,
            stderr=log,
        )
        try:
            url = f"http://127.0.0.1:{free_tcp_port}/mcp"
            with anyio.fail_after(120):
                while True:  # until the server listens
                    try:
                        async with httpx.AsyncClient() as client:
                            await client.get(url)
                        break
                    except httpx.TransportError:
                        assert process.returncode is None, (mcp_home / "http.log").read_text()
                        await anyio.sleep(0.2)
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                tools = {t.name for t in (await session.list_tools()).tools}
                assert {"evaluate_candidate", "start_run", "apply_kernel"} <= tools
                result = await session.call_tool("run_status", {"run_id": 424242})
                assert result.is_error
        finally:
            process.terminate()
            await process.wait()


def test_http_refuses_an_address_beyond_loopback(server_env, monkeypatch, capsys):
    for key, value in server_env.items():
        monkeypatch.setenv(key, value)
    assert main(["--http", "--host", "0.0.0.0"]) == 2
    assert "refusing to serve MCP on 0.0.0.0" in capsys.readouterr().err
