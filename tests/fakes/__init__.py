"""Test doubles that stand in for outside services over real sockets (an LLM endpoint, ...)."""
