"""Open311's one error model: a refusal is a list of ``{code, description}`` (code: the HTTP status),
in the format the client asked for: a JSON array, or ``<errors><error><code/><description/></error></errors>``.

Open311 clients expect this shape, never our API's ``{"errors": [...]}``; so the Open311 routes
answer every refusal, their own (:class:`Open311Error`) and the core's field errors, through
:func:`open311_response` here. The JSON body is built by ``dashboard.access.refusals.open311_error``,
which the access gate answers with too; the XML one by ``open311_xml.errors_xml``.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from dashboard.access.refusals import open311_error
from dashboard.api.open311_xml import errors_xml, xml_response
from dashboard.domain.errors import FieldError

PARTY_FIELDS = {"party_name": "first_name and last_name", "party_phone": "phone", "address": "address_string"}
"""Open311's names of the party details the core checks."""
ATTRIBUTES = frozenset({"grid_code", "external_ref"})
"""Case fields an Open311 client sends as ``attribute[...]``."""


class Open311Error(Exception):
    """A refusal in Open311's shape."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description

    @classmethod
    def of(cls, error: FieldError) -> Open311Error:
        """A core field error in Open311's words: its field named as the client sent it."""
        status = 404 if error.code == "not_found" else 400
        if error.field in PARTY_FIELDS:
            return cls(status, f"{PARTY_FIELDS[error.field]} {error.message}")
        field = f"attribute[{error.field}]" if error.field in ATTRIBUTES else error.field
        return cls(status, f"{field}: {error.message}" if field else error.message)

    def response(self, fmt: str = "json") -> Response:
        """The refusal as ``fmt`` (``json`` or ``xml``, the extension the client asked with)."""
        if fmt == "xml":
            return xml_response(errors_xml(self.status, self.description), self.status)
        return open311_error(self.status, self.description)


def open311_response(error: Open311Error | FieldError, fmt: str = "json") -> Response:
    """The answer to a refusal met by an Open311 route."""
    return (error if isinstance(error, Open311Error) else Open311Error.of(error)).response(fmt)


def guarded(work: Callable[[], Response], fmt: str = "json") -> Response:
    """Run a route's work, answering a refusal in Open311's shape and the client's format."""
    try:
        return work()
    except (Open311Error, FieldError) as error:
        return open311_response(error, fmt)
