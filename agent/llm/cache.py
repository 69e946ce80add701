"""Where answers to prompts already asked are kept, keyed by ``prompt_hash``.

The client asks the cache before the endpoint: a repeated prompt (a resumed run, a retried
job) costs nothing. The protocol is small so the store can back it; ``MemoryCache`` serves
a single process and the tests.
"""

from __future__ import annotations

import threading
from typing import Protocol

from agent.llm.types import ChatResponse


class ResponseCache(Protocol):
    def get(self, key: str) -> ChatResponse | None: ...

    def put(self, key: str, response: ChatResponse) -> None: ...


class MemoryCache:
    """A dict behind a lock; holds what it is given for the life of the process."""

    def __init__(self) -> None:
        self._entries: dict[str, ChatResponse] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> ChatResponse | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, response: ChatResponse) -> None:
        with self._lock:
            self._entries[key] = response

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
