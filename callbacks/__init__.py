"""Thin reactive glue: read inputs, call the core, return components."""
