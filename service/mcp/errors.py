"""How a failed tool call reaches the agent: one ``ToolError`` with a message it can act on.

The SDK sends a ``ToolError``'s text back as an ``isError`` result and hides any other
exception's text behind "Error executing tool". Crucible's own errors are written for users, so
they pass through as they are; anything else is a bug, logged here with its traceback and
reported by type and message, so the agent can say what went wrong instead of retrying blind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from kernels.errors import CrucibleError

log = logging.getLogger("crucible.mcp")


@contextmanager
def reported(tool: str) -> Iterator[None]:
    """Turn whatever the body raises into a ``ToolError``; the server never goes down with it."""
    try:
        yield
    except ToolError:
        raise
    except CrucibleError as exc:
        raise ToolError(str(exc)) from exc
    except ValidationError as exc:
        raise ToolError(f"invalid arguments: {exc}") from exc
    except OSError as exc:
        raise ToolError(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        log.exception("tool %s failed unexpectedly", tool)
        raise ToolError(
            f"internal error ({type(exc).__name__}: {exc}); the server's log has the traceback"
        ) from exc
