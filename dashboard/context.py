"""What every page shares: the config, the store, the sidebar's device filter and API token.

The store is one per database URL for the whole server process (``st.cache_resource``), so its
connection pool and its per-run caches serve every browser session.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import streamlit as st

from dashboard.actions import ApiClient
from dashboard.config import SESSION_KEY, DashboardConfig, parse_args
from store.repository import Store

ALL_DEVICES = "all devices"


@dataclass(frozen=True)
class PageContext:
    config: DashboardConfig
    store: Store
    device: str | None  # the sidebar's filter; None shows every device, each in its own chart
    token: str | None

    def api(self) -> ApiClient | None:
        """A client for start and cancel, when the dashboard was given an API."""
        if self.config.api_url is None:
            return None
        return ApiClient(self.config.api_url, self.token)


def config() -> DashboardConfig:
    given = st.session_state.get(SESSION_KEY)
    if isinstance(given, DashboardConfig):
        return given
    parsed = parse_args(sys.argv[1:])
    if parsed is None:
        st.error("No store given. Start the dashboard with `crucible dashboard`.")
        st.stop()
    assert parsed is not None
    return parsed


@st.cache_resource(show_spinner=False)
def open_store(url: str) -> Store:
    """The process's store for this URL; it migrates an empty database, like every client."""
    return Store(url)


DEVICE_KEY = "crucible_device"  # kept apart from the widgets' own keys, so they survive page changes
TOKEN_KEY = "crucible_api_token"


def _keep(widget: str, kept: str) -> None:
    st.session_state[kept] = st.session_state[widget]


def sidebar(store: Store, cfg: DashboardConfig) -> tuple[str | None, str | None]:
    """The device filter and the API token, in the sidebar of every page. Each page draws it, and
    a widget's state lives with its page, so the values are kept under keys of their own."""
    with st.sidebar:
        options = [ALL_DEVICES, *store.devices()]
        kept = st.session_state.get(DEVICE_KEY, ALL_DEVICES)
        picked = st.selectbox(
            "Device",
            options,
            index=options.index(kept) if kept in options else 0,
            key="device_widget",
            on_change=_keep,
            args=("device_widget", DEVICE_KEY),
            help="results of different devices never share a chart",
        )
        token = None
        if cfg.api_url is not None:
            token = st.text_input(
                "API token",
                value=st.session_state.get(TOKEN_KEY, ""),
                type="password",
                key="token_widget",
                on_change=_keep,
                args=("token_widget", TOKEN_KEY),
                help="needed to start or cancel runs when the API has CRUCIBLE_API_TOKEN set",
            )
            st.caption(f"actions go to {cfg.api_url}")
        else:
            st.caption("read-only: no API was given, so runs cannot be started or cancelled here")
    return (None if picked == ALL_DEVICES else picked), (token or None)


def current() -> PageContext:
    """What the page needs, with the sidebar drawn: every page calls this first."""
    cfg = config()
    store = open_store(cfg.database_url)
    device, token = sidebar(store, cfg)
    return PageContext(cfg, store, device, token)
