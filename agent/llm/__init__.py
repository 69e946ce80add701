"""Talking to LLMs: which model to call, what it costs, and a client that survives the endpoint.

Modules: ``models`` (parsing ``CRUCIBLE_MODELS`` and the price table), ``bandit`` (choosing a
model by improvement per dollar), ``types`` (request, reply and failure values, the prompt
hash), ``cache`` (the response cache protocol and an in-memory one), ``retry`` (the retry
policy and failure naming) and ``client`` (``LLMClient``). Nothing is imported here, so
importing the package does not import ``openai``.
"""
