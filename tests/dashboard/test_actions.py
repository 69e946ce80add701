"""Start and cancel from the dashboard go through a real HTTP API (uvicorn on loopback, in a
thread here) with the user's token, and really change the store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from dashboard.config import SESSION_KEY, DashboardConfig
from service.api.app import create_app
from service.settings import Settings
from store.repository import Store
from store.status import RunStatus

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TOKEN = "dashboard-test-token"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    url = f"sqlite:///{tmp_path / 'crucible.db'}"
    with Store(url) as store:
        settings = Settings(database_url=url, api_token=TOKEN, workdir=tmp_path / "work")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(create_app(settings, store), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield store, f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def dashboard(url: str, api_url: str, token: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[SESSION_KEY] = DashboardConfig(url, api_url)
    at.run()
    if token is not None:
        at.sidebar.text_input[0].input(token).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_the_token_the_form_says_so_and_nothing_is_queued(served: tuple[Store, str]) -> None:
    store, api_url = served
    at = dashboard(str(store.url), api_url, None)
    assert any("token" in w.value for w in at.warning)
    assert store.list_runs() == []


def test_a_run_started_from_the_form_is_queued_and_its_cancel_button_cancels_it(
    served: tuple[Store, str],
) -> None:
    store, api_url = served
    at = dashboard(str(store.url), api_url, TOKEN)
    at.number_input[0].set_value(5)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, [e.value for e in at.exception]
    assert any("queued run" in s.value for s in at.success), [e.value for e in at.error]
    (run,) = store.list_runs()
    assert run.status is RunStatus.QUEUED and run.budget == 5 and run.problem_name == "softmax"
    at.run()  # the overview now lists it with a cancel button
    cancel = next(b for b in at.button if b.label == "Cancel")
    cancel.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.get_run(run.id).status is RunStatus.CANCELLED
