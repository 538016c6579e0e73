"""Benchmarks (`make bench`): not tests; results in benchmarks/results.{md,json}."""
