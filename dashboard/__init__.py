"""The Streamlit dashboard: runs, their Pareto fronts and progress, and the candidates behind them.

Read-only over the store; starting and cancelling a run go through the HTTP API, the same code
path as every other client, with the user's API token. ``crucible dashboard`` starts it.
"""
