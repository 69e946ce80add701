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


def sidebar(store: Store, cfg: DashboardConfig) -> tuple[str | None, str | None]:
    """The device filter and the API token, in the sidebar of every page."""
    with st.sidebar:
        devices = store.devices()
        picked = st.selectbox(
            "Device",
            [ALL_DEVICES, *devices],
            key="device",
            help="results of different devices never share a chart",
        )
        token = None
        if cfg.api_url is not None:
            token = st.text_input(
                "API token",
                type="password",
                key="api_token",
                help="needed to start or cancel runs when the API has CRUCIBLE_API_TOKEN set",
            )
            st.caption(f"actions go to {cfg.api_url}")
        else:
            st.caption("read-only: no API was given, so runs cannot be started or cancelled here")
    return (None if picked == ALL_DEVICES else picked), (token or None)


CONTEXT_KEY = "crucible_page_context"


def frame() -> PageContext:
    """Render what every page shares (the sidebar) and keep the context for the page: called by
    the entry script, whose elements stay in place while the pages change."""
    cfg = config()
    store = open_store(cfg.database_url)
    device, token = sidebar(store, cfg)
    context = PageContext(cfg, store, device, token)
    st.session_state[CONTEXT_KEY] = context
    return context


def current() -> PageContext:
    """The context the entry script made for this run of the page."""
    context = st.session_state.get(CONTEXT_KEY)
    if not isinstance(context, PageContext):
        return frame()  # a page run on its own (as AppTest may), without the entry script
    return context
