"""Tests of `devkit`."""
