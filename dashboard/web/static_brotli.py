"""Temporary alias: ``accepted_encodings`` lives in ``dashboard.web.compression``.

Delete this module once ``dashboard.api.status`` imports it from there.
"""

from dashboard.web.compression import accepted_encodings

__all__ = ["accepted_encodings"]
