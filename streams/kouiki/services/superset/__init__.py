"""Superset, run from its own virtualenv: process, asset bundle, security (roles, RLS) and REST client."""
