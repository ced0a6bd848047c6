"""Domain refusals as API errors: the services raise Django's
ValidationError with a code; an endpoint names the HTTP status of each code
it can meet, and the error handler gives them all one shape."""

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.exceptions import APIException


class ApiError(APIException):
    """A refusal with a stable code, a message and, for input, field errors."""

    def __init__(self, code: str, message, *, http_status: int = 422, fields: dict | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = http_status
        self.fields = fields


NOT_FOUND = status.HTTP_404_NOT_FOUND
CONFLICT = status.HTTP_409_CONFLICT
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_ENTITY


def refusal(exc: ValidationError, statuses: dict[str, int] | None = None, default: int = UNPROCESSABLE) -> ApiError:
    """The API error for a service's ValidationError: its code, its first
    message, its field errors, and the status ``statuses`` gives the code."""
    code = error_code(exc)
    fields = None
    if hasattr(exc, "error_dict"):
        fields = {name: [str(m) for m in ValidationError(errors).messages] for name, errors in exc.error_dict.items()}
    message = exc.messages[0] if exc.messages else code
    return ApiError(code, message, http_status=(statuses or {}).get(code, default), fields=fields)


def error_code(exc: ValidationError) -> str:
    """A service refusal's code (a refusal about a field keeps it on the
    field's errors)."""
    if getattr(exc, "code", None):
        return exc.code
    errors = exc.error_list if hasattr(exc, "error_list") else [e for es in exc.error_dict.values() for e in es]
    return next((error.code for error in errors if error.code), "invalid")
