"""The pages and how to get from one to another, keeping the browser session (and its token)."""

from __future__ import annotations

import streamlit as st

OVERVIEW = "pages/overview.py"
RUN = "pages/run.py"
CANDIDATE = "pages/candidate.py"


def pages() -> list[st.Page]:
    return [
        st.Page(OVERVIEW, title="Runs", icon=":material/list:", default=True),  # served at /
        st.Page(RUN, title="Run", icon=":material/monitoring:", url_path="run"),
        st.Page(CANDIDATE, title="Candidate", icon=":material/code:", url_path="candidate"),
    ]


def open_run(run_id: int) -> None:
    st.switch_page(RUN, query_params={"id": str(run_id)})


def open_candidate(candidate_id: int) -> None:
    st.switch_page(CANDIDATE, query_params={"id": str(candidate_id)})


def id_param() -> int | None:
    """The page's ``?id=``, or None when it is missing or not a positive number."""
    raw = st.query_params.get("id")
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None
