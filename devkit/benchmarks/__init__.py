"""Benchmarks (`make bench`): not tests; results in devkit/benchmarks/results.{md,json}."""
