"""Evaluator errors. Only setup faults raise; a candidate's failures become statuses."""

from kernels.errors import CrucibleError


class EvaluatorError(CrucibleError):
    """The evaluator itself could not do its job (bad device, reference failed, no disk)."""


class ReferenceFailed(EvaluatorError):
    """The problem's reference failed in its own process; no candidate can be judged against it."""
