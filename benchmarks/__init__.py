"""Benchmarks, run by `make bench`: each prints figures as a ratio against a reference
measured in the same run, so a slow or busy machine shifts both sides alike."""
