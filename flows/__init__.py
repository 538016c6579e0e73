"""Prefect flows: the nightly run and its deployment."""
