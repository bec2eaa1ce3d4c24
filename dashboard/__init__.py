"""Command-centre dashboard for county dispute-resolution centres (矛调中心)."""

__version__ = "0.1.0"
