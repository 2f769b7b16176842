"""Benchmark of the tool: launches, the triage dashboard, grade sync and worker memory.

Run it with ``bench/run`` (or ``python -m bench``) from the repository root; bench/README.md
describes every row of the table it prints.
"""
