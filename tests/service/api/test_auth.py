"""The bearer token: every route but /healthz refuses a request without the right one, and with no
token configured only loopback clients are served."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.settings import Settings
from store import Store

GUARDED = [
    ("GET", "/api/v1/runs"),
    ("POST", "/api/v1/runs"),
    ("GET", "/api/v1/runs/1"),
    ("GET", "/api/v1/runs/1/candidates"),
    ("GET", "/api/v1/runs/1/pareto"),
    ("POST", "/api/v1/runs/1/cancel"),
    ("GET", "/api/v1/candidates/1"),
    ("GET", "/api/v1/candidates/1/export"),
    ("GET", "/api/v1/problems"),
    ("POST", "/api/v1/problems"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
]


def test_healthz_needs_no_token(api) -> None:
    with api.anonymous() as anonymous:
        response = anonymous.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_a_missing_or_wrong_token_gets_401_with_a_reason(api, method: str, path: str) -> None:
    with api.anonymous() as anonymous:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
            response = anonymous.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"]


def test_the_right_token_is_let_in(api) -> None:
    for path in ("/api/v1/runs", "/api/v1/problems", "/metrics", "/openapi.json"):
        assert api.client.get(path).status_code == 200, path
    schema = api.client.get("/openapi.json").json()
    assert (
        "/api/v1/runs/{run_id}" in schema["paths"] and "HTTPBearer" in schema["components"]["securitySchemes"]
    )


def _app_client(tmp_path: Path, host: str, token: str | None) -> tuple[TestClient, Store]:
    """The app in process, as a client at ``host`` sees it (a real socket cannot come from 10.1.2.3)."""
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    settings = Settings(database_url=str(store.url), api_token=token)
    return TestClient(create_app(settings, store), client=(host, 40000)), store


@pytest.mark.parametrize(("host", "code"), [("127.0.0.1", 200), ("::1", 200), ("10.1.2.3", 401)])
def test_without_a_token_only_loopback_clients_are_served(tmp_path: Path, host: str, code: int) -> None:
    client, store = _app_client(tmp_path, host, None)
    with client, store:
        response = client.get("/api/v1/runs")
    assert response.status_code == code, response.text
    if code == 401:
        assert "loopback" in response.json()["error"]


def test_with_a_token_loopback_clients_need_it_too(tmp_path: Path) -> None:
    client, store = _app_client(tmp_path, "127.0.0.1", "s3cret")
    with client, store:
        assert client.get("/api/v1/runs").status_code == 401
        assert client.get("/api/v1/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_the_uvicorn_factory_takes_its_settings_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    from service.api.app import factory

    monkeypatch.setenv("CRUCIBLE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("CRUCIBLE_API_TOKEN", "from-env")
    with TestClient(factory(), client=("127.0.0.1", 40000)) as client:  # runs the lifespan: closes its store
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/runs").status_code == 401
        assert client.get("/api/v1/runs", headers={"Authorization": "Bearer from-env"}).json()["total"] == 0
    assert (tmp_path / "env.db").exists()
