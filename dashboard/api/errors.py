"""Our API's one error model: every refusal under ``/api/`` is ``{"errors": [{"code", "field", "message"}]}``.

Routes raise :class:`ApiError` for refusals only the API knows (authentication, a point outside
the county), and let the core's :class:`~dashboard.domain.errors.FieldError` and
:class:`~dashboard.domain.errors.TransitionError` through; the handlers installed here turn each
of them, and pydantic's validation errors, into that one body. The body, with one item or several,
is built by ``dashboard.access.refusals.errors_json``, which the access gate answers with too (the
gate runs before any router, so the shape lives on its side).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from dashboard.access.refusals import error_item, error_json, errors_json
from dashboard.domain.errors import FieldError, TransitionError


FIELD_ERROR_STATUS = {"not_found": 404}
"""HTTP status of a core field error by its code; any other code is 422."""


class ApiError(Exception):
    """A refusal with its HTTP status, in our error model."""

    def __init__(self, status: int, code: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.field, self.message = status, code, field, message

    @classmethod
    def of(cls, error: FieldError | TransitionError) -> ApiError:
        """The API's answer to a refusal of the core."""
        if isinstance(error, TransitionError):
            return cls(409, "invalid_transition", "action", str(error))
        return cls(FIELD_ERROR_STATUS.get(error.code, 422), error.code, error.field, error.message)

    def response(self) -> JSONResponse:
        return error_json(self.status, self.code, self.message, self.field)


def install_error_handlers(server: FastAPI) -> None:
    """Our error shape for our errors, the core's refusals and pydantic's validation errors."""

    @server.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error.response()

    @server.exception_handler(FieldError)
    @server.exception_handler(TransitionError)
    async def _refused(_request: Request, error: FieldError | TransitionError) -> JSONResponse:
        return ApiError.of(error).response()

    @server.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return errors_json(422, [
            error_item(str(e.get("type", "invalid")), str(e.get("msg", "invalid")),
                       ".".join(str(p) for p in e.get("loc", ())[1:]) or None)
            for e in error.errors()
        ])
