"""Live screens: one Redis subscription per process, each screen kind's state, and the deltas sent to open screens."""
