"""The dashboard's entry script: ``streamlit run dashboard/app.py -- --database-url URL``.

Pages: the runs overview (start and cancel), one run (fronts, progress, failures, LLM calls),
and one candidate (source, diff, verdict, per-shape metrics, export). ``crucible dashboard``
is the way to start it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

if __package__ in (None, ""):  # run as a script by streamlit: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.navigation import pages

st.set_page_config(page_title="Crucible", page_icon=":material/local_fire_department:", layout="wide")
st.navigation(pages()).run()
