"""Starting and cancelling runs: requests to the HTTP API, with the user's token.

The dashboard never writes to the store itself: the API applies the same checks as
``crucible optimize`` and the queue's workers do the work, so a run started here is a run like
any other. Every answer, good or bad, comes back as an ``ActionResult`` with the API's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    run_id: int | None = None


@dataclass(frozen=True)
class RunRequest:
    problem: str
    budget: int
    device: str
    proposer: str


class ApiError(Exception):
    """The API could not be reached, or refused; the message says which."""


class ApiClient:
    """The few API calls the dashboard makes."""

    def __init__(
        self, base_url: str, token: str | None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT_S, transport=transport)

    def close(self) -> None:
        self._http.close()

    def problems(self) -> list[str]:
        """Names of the problems a run can be started on (built-in and uploaded); ApiError with
        the reason when the API cannot say."""
        try:
            reply = self._http.get("/api/v1/problems")
        except httpx.HTTPError as exc:
            raise ApiError(f"the API at {self._http.base_url} did not answer: {exc}") from exc
        if reply.status_code == 401:
            raise ApiError("the API needs its token: enter it in the sidebar to start runs")
        if reply.is_error:
            raise ApiError(f"the API answered HTTP {reply.status_code}: {reply.text[:200]}")
        body = reply.json()
        items = body.get("items", body) if isinstance(body, dict) else body
        return sorted(str(item["name"]) for item in items)

    def start(self, request: RunRequest) -> ActionResult:
        body = {
            "problem": request.problem,
            "budget": request.budget,
            "device": request.device,
            "proposer": request.proposer,
        }
        return self._send("POST", "/api/v1/runs", body, done="queued")

    def cancel(self, run_id: int) -> ActionResult:
        return self._send("POST", f"/api/v1/runs/{run_id}/cancel", None, done="cancel requested for")

    def export_zip(self, candidate_id: int) -> bytes:
        reply = self._http.get(f"/api/v1/candidates/{candidate_id}/export")
        reply.raise_for_status()
        return reply.content

    def _send(self, method: str, path: str, body: dict[str, Any] | None, *, done: str) -> ActionResult:
        try:
            reply = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            return ActionResult(False, f"the API at {self._http.base_url} did not answer: {exc}")
        if reply.status_code == 401:
            return ActionResult(False, "the API needs a valid token: enter it in the sidebar")
        try:
            payload = reply.json()
        except ValueError:
            payload = {}
        if reply.is_error:
            reason = payload.get("error") if isinstance(payload, dict) else None
            return ActionResult(False, f"HTTP {reply.status_code}: {reason or reply.text[:200]}")
        run_id = payload.get("id") if isinstance(payload, dict) else None
        status = payload.get("status", "") if isinstance(payload, dict) else ""
        return ActionResult(True, f"{done} run {run_id} ({status})", run_id)
