"""The root of Crucible's error hierarchy; every user-facing failure is one of these."""


class CrucibleError(Exception):
    """An error with a message a user can act on (no traceback needed)."""


class ProblemError(CrucibleError):
    """A problem file is missing, unreadable or breaks the problem contract."""


class CandidateError(CrucibleError):
    """A candidate file is missing, unreadable or its config is invalid."""
