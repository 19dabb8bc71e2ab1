"""Example workloads: the secret-reading nginx demo and the multi-container pod patterns."""
