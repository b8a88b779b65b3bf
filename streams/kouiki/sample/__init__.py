"""Deterministic synthetic consortia, projects and quarterly reports for demos and tests."""
