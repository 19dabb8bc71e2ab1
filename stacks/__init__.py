"""Composition of components into a stack; the only package that reads stack config."""
