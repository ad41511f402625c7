"""Benchmarks (``make bench``); not run by the test suite."""
