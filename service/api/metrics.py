"""``GET /metrics``: Prometheus text, read from the store at each scrape, behind the token.

The store is the source of truth, so the numbers are the same whichever server (or how many)
is scraped, and survive restarts. Each app has its own ``CollectorRegistry`` (nothing global,
nothing at import), holding one collector that queries the store when scraped:

* ``crucible_queue_depth``: runs waiting for a worker;
* ``crucible_runs{status}``: runs by status, every status listed (zero included);
* ``crucible_evaluations_total{status}``: candidates with a verdict, by status;
  ``crucible_candidates_pending``: those still waiting for one;
* ``crucible_evaluation_duration_seconds``: a histogram of the verdicts' wall-clock durations;
* ``crucible_llm_calls_total``, ``crucible_llm_tokens_total{kind}`` (prompt, completion) and
  ``crucible_llm_cost_usd_total``: every LLM call of every run.

The queue depth is ``Store.queue_depth``; the rest is read through ``Store.engine``, in one
read-only transaction per scrape (the Store has no call for these totals over every run).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from sqlalchemy import case, func, select

from service.api.auth import require_token
from service.api.state import ApiState, api_state
from store.models import CandidateRow, LLMCallRow, RunRow
from store.repository import Store
from store.status import RunStatus

# Seconds; an evaluation is a process start, a compile, checks over shapes and timing.
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

router = APIRouter(tags=["metrics"], dependencies=[Depends(require_token)])


class StoreCollector:
    """Collects Crucible's metrics from the store when the registry is scraped."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        evaluated = CandidateRow.status.is_not(None)
        depth = self.store.queue_depth()
        with self.store.engine.connect() as conn, conn.begin():
            runs = dict(conn.execute(select(RunRow.status, func.count()).group_by(RunRow.status)).all())
            verdicts = conn.execute(
                select(CandidateRow.status, func.count()).where(evaluated).group_by(CandidateRow.status)
            ).all()
            pending = conn.scalar(select(func.count()).where(CandidateRow.status.is_(None))) or 0
            timed = conn.execute(
                select(
                    func.count(CandidateRow.duration_s),
                    func.sum(CandidateRow.duration_s),
                    *(func.sum(case((CandidateRow.duration_s <= b, 1), else_=0)) for b in DURATION_BUCKETS),
                ).where(evaluated)
            ).one()
            calls, prompt, completion, cost = conn.execute(
                select(
                    func.count(LLMCallRow.id),
                    func.sum(LLMCallRow.prompt_tokens),
                    func.sum(LLMCallRow.completion_tokens),
                    func.sum(LLMCallRow.cost_usd),
                )
            ).one()

        yield GaugeMetricFamily("crucible_queue_depth", "Runs waiting for a worker", value=depth)
        by_status = GaugeMetricFamily("crucible_runs", "Runs by status", labels=["status"])
        for run_status in RunStatus:
            by_status.add_metric([run_status.value], runs.get(run_status.value, 0))
        yield by_status

        evaluations = CounterMetricFamily(
            "crucible_evaluations", "Candidates evaluated, by verdict status", labels=["status"]
        )
        for verdict, count in sorted(verdicts, key=lambda row: str(row[0])):
            evaluations.add_metric([str(verdict)], count)
        yield evaluations
        yield GaugeMetricFamily(
            "crucible_candidates_pending", "Candidates waiting for a verdict", value=pending
        )

        count, total, *cumulative = timed
        buckets = [(f"{b:g}", float(c or 0)) for b, c in zip(DURATION_BUCKETS, cumulative, strict=True)]
        buckets.append(("+Inf", float(count or 0)))
        yield HistogramMetricFamily(
            "crucible_evaluation_duration_seconds",
            "Wall-clock time of each evaluation",
            buckets=buckets,
            sum_value=float(total or 0.0),
        )

        yield CounterMetricFamily("crucible_llm_calls", "LLM calls of every run", value=calls or 0)
        tokens = CounterMetricFamily("crucible_llm_tokens", "LLM tokens of every run", labels=["kind"])
        tokens.add_metric(["prompt"], prompt or 0)
        tokens.add_metric(["completion"], completion or 0)
        yield tokens
        yield CounterMetricFamily(
            "crucible_llm_cost_usd", "LLM cost of every run by the price table, USD", value=cost or 0.0
        )


def metrics_registry(store: Store) -> CollectorRegistry:
    """A registry of this app's own; registering queries nothing (no describe, no auto-describe)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
)
def metrics(state: ApiState = Depends(api_state)) -> Response:
    """Queue depth, runs and evaluations by status, evaluation latency, LLM tokens and cost."""
    return Response(generate_latest(state.registry), media_type=CONTENT_TYPE_LATEST)
