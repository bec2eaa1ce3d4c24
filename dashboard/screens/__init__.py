"""What each screen shows, computed from the Redis aggregates: the wall snapshot, its panels, the tablet, area figures."""
