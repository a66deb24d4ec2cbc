"""Benchmarks: scripts that print side-by-side ratios, p50/p99 and throughput (see README.md)."""
