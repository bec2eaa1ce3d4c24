"""The refusals the core raises: one field-error type, and the lifecycle's transition error.

Each protocol (our JSON API, Open311, the duty console, the import's row errors) turns these
into its own shape in one place; the core never knows which protocol asked.
"""

from __future__ import annotations


class FieldError(ValueError):
    """An input that cannot be accepted.

    ``field`` names the culprit (``None``: the request as a whole), ``code`` says why in a stable
    machine word (``invalid`` unless told; ``not_found`` when the field names something that does
    not exist), ``message`` says it to a person.
    """

    def __init__(self, field: str | None, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.code = code


class TransitionError(ValueError):
    """An action that the case's current state does not allow (a conflict, not a bad field)."""
