"""Crucible's HTTP API (``/api/v1``): FastAPI, served by uvicorn.

``service.api.app.create_app`` builds the app; ``uvicorn service.api.app:factory --factory``
serves it with the settings of the environment. The modules go by concept: ``auth`` (the bearer
token), ``bodies`` (request size limits), ``errors`` (every failure as ``{"error": ...}``),
``runs``, ``candidates``, ``problems`` and ``metrics`` (the routes), ``uploads`` (uploaded problem
files, checked by ``validate_problem`` in a process of their own).

This package module imports nothing, so ``python -m service.api.validate_problem`` starts light.
"""
