"""One candidate's verdict for ``evaluate_candidate``: the evaluator, used as ``crucible evaluate``
uses it.

The candidate runs in the evaluator's sandboxed child processes, never in the server, and the
reference in a child of its own. How long a call can take is bounded by the evaluator's own
per-stage limits (``EvalLimits``: the reference, load, correctness and timing timeouts, each a
``CRUCIBLE_*_TIMEOUT_S``). Evaluations in one server run one at a time: two at once on the same
cores would disturb each other's timings and core counts.

An agent's edit-and-test cycle evaluates many candidates of one problem, so the server keeps an
evaluator per (problem source, sizes, device) for the last few it used: the reference (and its
``torch.compile`` baseline) is prepared once, and every later candidate of that problem is
judged against the same reference figures and hidden seed, as the candidates of one run are.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from evaluator.hardware.devices import check_device_available, normalize_device
from evaluator.limits import EvalLimits
from kernels.candidate import make_candidate, read_config_space
from kernels.config import ConfigValue
from kernels.errors import CandidateError
from service.cli_options import coerce_config_value
from service.mcp.problems import ProblemResolver
from service.schemas import EvaluateOut
from service.settings import Settings

if TYPE_CHECKING:
    from evaluator.evaluate import Evaluator
    from kernels.problem import Problem

KEPT_EVALUATORS = 4  # problems whose reference stays prepared between calls


def time_bound_s(limits: EvalLimits) -> float:
    """The stages' wall-clock limits added up, the candidate's twice when implausible results are
    re-verified in a fresh process: the total that progress reports count toward."""
    candidate = limits.load_timeout_s + limits.correctness_timeout_s + limits.timing_timeout_s
    return limits.reference_timeout_s + candidate * (2 if limits.reverify else 1)


class CandidateEvaluations:
    """Evaluates candidate sources for the server, one at a time."""

    def __init__(self, settings: Settings, problems: ProblemResolver) -> None:
        self.settings = settings
        self.problems = problems
        self._one_at_a_time = threading.Lock()
        self._kept: OrderedDict[tuple[str, ...], Evaluator] = OrderedDict()

    @property
    def busy(self) -> bool:
        return self._one_at_a_time.locked()

    def evaluate(
        self, problem: str, source: str, device: str, config: Mapping[str, ConfigValue] | None
    ) -> EvaluateOut:
        """Blocking: the verdict and metrics of ``source`` (under ``config``) on ``device``."""
        if normalize_device(device) == "cuda:all":
            raise CandidateError("evaluate on one device at a time: cpu, cuda or cuda:N")
        target = check_device_available(device)
        loaded = self.problems.resolve(problem)
        loaded.shapes_for(target)  # a clear error when the problem has no shape for this device
        space = read_config_space(source)
        chosen = {
            k: coerce_config_value(v, space.get(k, [])) if isinstance(v, str) else v
            for k, v in (config or {}).items()
        }
        candidate = make_candidate(source, chosen)
        with self._one_at_a_time:
            evaluator = self._evaluator(loaded, target)
            try:
                result = evaluator.evaluate(candidate)
            except BaseException:  # a reference that failed is prepared afresh next time
                self._drop(evaluator)
                raise
        return EvaluateOut.from_evaluation(result, candidate)

    def _drop(self, evaluator: Evaluator) -> None:
        for key, kept in list(self._kept.items()):
            if kept is evaluator:
                del self._kept[key]
        evaluator.close()

    def _evaluator(self, problem: Problem, device: str) -> Evaluator:
        """The kept evaluator of this problem on this device, or a new one (the oldest closed)."""
        from evaluator.evaluate import Evaluator  # torch: imported by the first evaluation, not at start

        digest = hashlib.sha256(problem.source.encode()).hexdigest()
        key = (problem.name, digest, repr(sorted(problem.overrides.items())), device)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        evaluator = Evaluator(
            problem,
            device,
            self.settings.eval_limits(),
            secrets.randbits(31),
            workroot=self.settings.workdir,
            keep_workdirs=self.settings.keep_workdirs,
        )
        self._kept[key] = evaluator
        while len(self._kept) > KEPT_EVALUATORS:
            self._kept.popitem(last=False)[1].close()
        return evaluator

    def close(self) -> None:
        """Close every kept evaluator (their work directories go with them)."""
        with self._one_at_a_time:
            while self._kept:
                self._kept.popitem()[1].close()
