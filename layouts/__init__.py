"""Pure functions that build components; no queries, no state."""
