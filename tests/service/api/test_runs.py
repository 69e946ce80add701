"""Runs over HTTP: queueing one through create_run's checks, bad requests refused with a reason,
paging and filtering the list, one run's progress, and cancelling."""

from __future__ import annotations

import json

import pytest

from store.status import RunStatus


def test_queueing_a_run_gives_201_with_the_queued_run(api, queue_run) -> None:
    response = api.client.post(
        "/api/v1/runs", json={"problem": "softmax", "budget": 5, "proposer": "offline"}
    )
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "queued" and run["problem"] == "softmax" and run["budget"] == 5
    assert run["device"] == "cpu" and run["proposer"] == "offline" and run["evaluated"] == 0
    assert run["id"] == run["run_id"] and response.headers["location"] == f"/api/v1/runs/{run['id']}"
    assert run["limits"]["trials"] >= 1  # the evaluator limits it will be judged by, kept with it
    stored = api.store.get_run(run["run_id"])
    assert stored.status is RunStatus.QUEUED and stored.options == {"slots": 1}


def test_a_run_can_use_the_llm_proposer_and_several_slots(api, queue_run) -> None:
    run = queue_run("softmax", proposer="llm", budget=2, slots=2)
    assert run["proposer"] == "llm" and run["llm"]["calls"] == 0
    assert api.store.get_run(run["run_id"]).options == {"slots": 2}


def _error(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    return str(body["error"])


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        ('{"problem": "softmax",', 422, "not valid JSON"),
        ("[1, 2]", 422, "valid dictionary"),
        (json.dumps({"problem": "no_such_problem", "budget": 3}), 422, "unknown problem 'no_such_problem'"),
        (json.dumps({"problem": "softmax", "budget": 0}), 422, "budget"),
        (json.dumps({"problem": "softmax", "budget": 3, "colour": "red"}), 422, "colour: Extra inputs"),
        (json.dumps({"budget": 3}), 422, "problem: Field required"),
        (json.dumps({"problem": "../../etc/passwd"}), 422, "problem: String should match pattern"),
        (json.dumps({"problem": "softmax", "device": "tpu"}), 422, "unknown device 'tpu'"),
        (json.dumps({"problem": "softmax", "device": "cuda:7"}), 422, "cuda:7"),
        (json.dumps({"problem": "softmax", "proposer": "magic"}), 422, "proposer"),
        (json.dumps({"problem": "softmax", "overrides": {"NOT_A_SIZE": 4}}), 422, "cannot override"),
        (json.dumps({"problem": "softmax", "overrides": {"N": -1}}), 422, "overrides.N"),
    ],
)
def test_bad_requests_get_4xx_with_a_reason(api, body: str, code: int, reason: str) -> None:
    response = api.client.post("/api/v1/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == code, response.text
    assert reason in _error(response)


def test_a_body_over_the_limit_gets_413(api) -> None:
    big = json.dumps({"problem": "softmax", "padding": "x" * (3 * 1024 * 1024)})
    response = api.client.post("/api/v1/runs", content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "over the limit" in _error(response)
    assert api.alive()


def test_a_chunked_body_over_the_limit_gets_413_too(api) -> None:
    def chunks():
        yield b'{"problem": "softmax", "padding": "'
        for _ in range(40):
            yield b"x" * 100_000
        yield b'"}'

    response = api.client.post("/api/v1/runs", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert api.alive()


def test_runs_page_through_with_limit_offset_and_filters(api, queue_run) -> None:
    mine = [queue_run("layernorm", budget=n)["run_id"] for n in range(1, 6)]  # newest last
    page = api.client.get("/api/v1/runs", params={"problem": "layernorm", "limit": 2}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0
    assert [r["run_id"] for r in page["items"]] == mine[::-1][:2]  # newest first
    seen = []
    for offset in range(0, 6, 2):
        got = api.client.get("/api/v1/runs", params={"problem": "layernorm", "limit": 2, "offset": offset})
        seen += [r["run_id"] for r in got.json()["items"]]
    assert seen == mine[::-1]
    past = api.client.get("/api/v1/runs", params={"problem": "layernorm", "offset": 10}).json()
    assert past["items"] == [] and past["total"] == 5

    api.client.post(f"/api/v1/runs/{mine[0]}/cancel")
    cancelled = api.client.get("/api/v1/runs", params={"problem": "layernorm", "status": "cancelled"}).json()
    assert [r["run_id"] for r in cancelled["items"]] == [mine[0]] and cancelled["total"] == 1
    queued = api.client.get(
        "/api/v1/runs", params={"problem": "layernorm", "status": "queued", "device": "cpu"}
    ).json()
    assert queued["total"] == 4
    assert (
        api.client.get("/api/v1/runs", params={"problem": "layernorm", "device": "cuda:0"}).json()["total"]
        == 0
    )
    everything = api.client.get("/api/v1/runs", params={"limit": 200}).json()
    assert everything["total"] >= 5 and {r["problem"] for r in everything["items"]} >= {"layernorm"}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "sleeping"}, "status"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_list_parameters_get_422(api, params: dict[str, object], reason: str) -> None:
    response = api.client.get("/api/v1/runs", params=params)
    assert response.status_code == 422 and reason in _error(response)


def test_run_detail_shows_progress_against_the_budget(
    api, queue_run, candidate_factory, result_factory
) -> None:
    run_id = queue_run("softmax", budget=7)["run_id"]
    first = api.store.add_candidate(run_id, candidate_factory(1))
    api.store.record_result(first, result_factory(speedup=1.5))
    second = api.store.add_candidate(run_id, candidate_factory(2))
    api.store.record_result(second, result_factory(speedup=3.0))
    api.store.add_candidate(run_id, candidate_factory(3))  # pending
    run = api.client.get(f"/api/v1/runs/{run_id}").json()
    assert run["budget"] == 7 and run["evaluated"] == 2 and run["status"] == "queued"
    assert run["best"]["candidate_id"] == second and run["best"]["speedup"] == pytest.approx(3.0)
    assert run["llm"] == {
        "calls": 0,
        "failed_calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "candidates_ok": 0,
    }
    assert run["cancel_requested"] is False and run["worker"] is None


def test_unknown_runs_get_404_on_every_run_route(api) -> None:
    for method, path in (
        ("GET", "/api/v1/runs/999999"),
        ("GET", "/api/v1/runs/999999/candidates"),
        ("GET", "/api/v1/runs/999999/pareto"),
        ("POST", "/api/v1/runs/999999/cancel"),
    ):
        response = api.client.request(method, path)
        assert response.status_code == 404, path
        assert "run 999999 does not exist" in _error(response)
    assert api.client.get("/api/v1/runs/0").status_code == 422
    assert api.client.get("/api/v1/runs/99999999999999999999").status_code == 422
    assert api.client.get("/api/v1/runs/abc").status_code == 422


def test_cancelling_a_queued_run_cancels_it_and_a_running_one_asks_its_worker(api, queue_run) -> None:
    run_id = queue_run("rmsnorm")["run_id"]
    response = api.client.post(f"/api/v1/runs/{run_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["finished_at"]
    again = api.client.post(f"/api/v1/runs/{run_id}/cancel").json()
    assert again["status"] == "cancelled"  # a finished run keeps its status
    assert api.store.get_run(run_id).status is RunStatus.CANCELLED

    running = queue_run("rmsnorm")["run_id"]
    api.store.set_run_status(running, RunStatus.RUNNING)
    asked = api.client.post(f"/api/v1/runs/{running}/cancel").json()
    assert asked["status"] == "running" and asked["cancel_requested"] is True
    assert api.store.cancel_requested(running)
