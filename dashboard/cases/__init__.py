"""The one write path (one transaction, then one apply-and-publish), casework, duty actions, the deadline scheduler and the aggregates' rebuild."""
