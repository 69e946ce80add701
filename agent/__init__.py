"""The search side of Crucible: proposers, the config tuner, the archive and the search loop.

Modules: ``protocols`` (the seams to the evaluator and the store), ``tuner`` (ask/tell over
one CONFIG_SPACE), ``offline`` (the autotuning proposer over variant families), ``archive``
(bests and Pareto fronts) and ``loop`` (``run_search``). Nothing is imported here, so
importing the package stays cheap.
"""
