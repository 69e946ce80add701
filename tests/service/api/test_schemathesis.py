"""Property-based requests from the live OpenAPI schema: whatever fits the schema, and whatever
does not, the server answers without a 5xx, and its answers match the schema it publishes.

The schema is fetched from the running server and each operation's cases are drawn with
schemathesis' Hypothesis strategies in this one test: schemathesis' lazy pytest loader
(``schemathesis.pytest.from_fixture``), which a fixture-started server needs, fails on pytest 9
(it reads ``Function._nodeid``, which pytest no longer has). The store holds a run with judged
candidates first, and each operation is also tried on their ids, so the routes are exercised on
data that exists, not only on 404s.
"""

from __future__ import annotations

from collections import Counter

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from evaluator.types import Status

EXAMPLES = 10  # per operation and way of drawing


@pytest.mark.slow
def test_no_request_gets_a_server_error(api, queue_run, candidate_factory, result_factory) -> None:
    run_id = queue_run("softmax")["run_id"]
    ok, wrong = (api.store.add_candidate(run_id, candidate_factory(n)) for n in range(2))
    api.store.record_result(ok, result_factory())
    api.store.record_result(wrong, result_factory(Status.WRONG_OUTPUT))
    api.store.add_candidate(run_id, candidate_factory(2))
    auth = {"Authorization": f"Bearer {api.token}"}
    schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json", headers=auth, timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12  # every route but /openapi.json
    answered: Counter[tuple[str, str, int]] = Counter()

    for operation in operations:
        known = {"run_id": run_id, "candidate_id": ok}
        fixed = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
        strategies = [(mode, operation.as_strategy(mode)) for mode in GenerationMode]
        if fixed:
            strategies.append((GenerationMode.POSITIVE, operation.as_strategy(path_parameters=fixed)))
        for mode, strategy in strategies:

            @hypothesis.given(case=strategy)
            @hypothesis.settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
            def answers_without_a_server_error(case: schemathesis.Case) -> None:
                response = case.call_and_validate(
                    headers=auth, checks=[not_a_server_error, response_schema_conformance], timeout=60
                )
                answered[(case.method, case.path, response.status_code)] += 1

            try:
                answers_without_a_server_error()
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing of it can be invalid (GET /healthz)

    assert api.alive()
    codes = {code for (_, _, code) in answered}
    assert {200, 404, 422} <= codes, answered
    assert answered[("GET", "/api/v1/candidates/{candidate_id}/export", 200)] >= 1, answered
