"""``crucible mcp``: Crucible as a Model Context Protocol server for coding agents.

An agent working in a user's code hands Crucible a problem and candidate kernels; Crucible
judges them in its sandboxed evaluator, queues searches for the workers, reads what the store
found, and writes a chosen kernel back into the project with its test. ``server.build_server``
assembles the tools; ``service.mcp_command.run_mcp`` serves them over stdio or streamable HTTP.
Importing this package imports no MCP SDK, torch or store.
"""
