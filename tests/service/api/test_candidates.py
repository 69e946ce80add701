"""Candidates over HTTP: a run's page of them, the Pareto front, one with its source, its export as a
zip, and the metrics they show up in. They are put in the store as a worker would."""

from __future__ import annotations

import io
import zipfile

import pytest

from evaluator.types import Status


@pytest.fixture
def judged_run(api, queue_run, candidate_factory, result_factory) -> tuple[int, list[int]]:
    """A softmax run with two passing candidates, one wrong one and one pending."""
    run_id = queue_run("softmax", budget=10)["run_id"]
    ids = [api.store.add_candidate(run_id, candidate_factory(n)) for n in range(4)]
    api.store.record_result(ids[0], result_factory(speedup=1.5, duration_s=0.7))
    api.store.record_result(ids[1], result_factory(speedup=2.5, duration_s=3.0))
    api.store.record_result(ids[2], result_factory(Status.WRONG_OUTPUT, duration_s=40.0))
    return run_id, ids


def test_a_runs_candidates_come_a_page_at_a_time_oldest_first(api, judged_run) -> None:
    run_id, ids = judged_run
    first = api.client.get(f"/api/v1/runs/{run_id}/candidates", params={"limit": 3}).json()
    assert first["total"] == 4 and [c["candidate_id"] for c in first["items"]] == ids[:3]
    rest = api.client.get(f"/api/v1/runs/{run_id}/candidates", params={"limit": 3, "offset": 3}).json()
    assert [c["candidate_id"] for c in rest["items"]] == ids[3:]
    done, _, wrong, pending = first["items"] + rest["items"]
    assert (
        done["status"] == "ok"
        and done["origin"] == "offline"
        and done["hash"] == api.store.get_candidate(ids[0]).hash
    )
    assert done["speedup"] == pytest.approx(1.5) and done["latency_us"] > 0
    assert done["result"]["shapes"][1]["max_rel_err"] is None  # inf: strict JSON has no Infinity
    assert wrong["status"] == "wrong_output" and pending["status"] == "pending" and pending["result"] is None
    assert "source" not in done


def test_the_pareto_front_has_the_fastest_passing_candidate(api, judged_run) -> None:
    run_id, ids = judged_run
    front = api.client.get(f"/api/v1/runs/{run_id}/pareto").json()
    assert front["run_id"] == run_id
    assert front["front"][0]["candidate_id"] == ids[1]
    assert all(c["status"] == "ok" for c in front["front"])


def test_candidate_detail_carries_the_source(api, judged_run, candidate_factory) -> None:
    _, ids = judged_run
    response = api.client.get(f"/api/v1/candidates/{ids[1]}")
    assert response.status_code == 200
    detail = response.json()
    assert detail["source"] == candidate_factory(1).source
    assert detail["candidate_id"] == ids[1] and detail["status"] == "ok"
    missing = api.client.get("/api/v1/candidates/987654")
    assert missing.status_code == 404 and "candidate 987654 does not exist" in missing.json()["error"]


def test_a_passing_candidate_exports_as_a_zip_of_a_self_testing_module(api, judged_run) -> None:
    _, ids = judged_run
    response = api.client.get(f"/api/v1/candidates/{ids[1]}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="c{ids[1]}.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        assert all(name.startswith(f"c{ids[1]}/") for name in names)
        kernel = next(n for n in names if n.endswith("_kernel.py") and "/test_" not in n)
        assert "class ModelNew" in archive.read(kernel).decode()
        assert any("/test_" in n for n in names) and any(n.endswith("_reference.py") for n in names)
        assert f"c{ids[1]}/manifest.json" in names


@pytest.mark.parametrize(("index", "status"), [(2, "wrong_output"), (3, "pending")])
def test_a_candidate_that_did_not_pass_is_not_exported(api, judged_run, index: int, status: str) -> None:
    _, ids = judged_run
    response = api.client.get(f"/api/v1/candidates/{ids[index]}/export")
    assert response.status_code == 422
    assert f"is {status}; only candidates that passed can be exported" in response.json()["error"]


def test_metrics_are_prometheus_text_with_crucibles_numbers(api, judged_run, queue_run) -> None:
    queue_run("bias_gelu")
    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "crucible_queue_depth",
        'crucible_runs{status="queued"}',
        'crucible_evaluations_total{status="ok"}',
        'crucible_evaluations_total{status="wrong_output"}',
        "crucible_candidates_pending",
        'crucible_evaluation_duration_seconds_bucket{le="1"}',
        "crucible_evaluation_duration_seconds_count",
        "crucible_evaluation_duration_seconds_sum",
        "crucible_llm_calls_total",
        'crucible_llm_tokens_total{kind="prompt"}',
        "crucible_llm_cost_usd_total",
    ):
        assert name in text, name
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values["crucible_queue_depth"] == api.store.queue_depth() >= 1
    assert values['crucible_evaluations_total{status="ok"}'] >= 2
    assert values['crucible_evaluation_duration_seconds_bucket{le="1"}'] >= 1
    assert values['crucible_evaluation_duration_seconds_bucket{le="+Inf"}'] >= 3
