"""Domain errors shared by every app's services."""

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A rule of the programme refused the request.

    ``message`` is translatable and safe to show the user; ``field`` names the
    form field it belongs to, if any; ``code`` is stable for tests and APIs.
    It is a ``ValidationError``, so every page and admin view that shows a
    service's refusal as a message shows this one too, and a view that lets
    it escape gets a message from ``DomainErrorMiddleware`` instead of a 500.
    """

    def __init__(self, message, *, code: str, field: str | None = None):
        if field:
            super().__init__({field: [ValidationError(message, code=code)]})
        else:
            super().__init__(message, code=code)
        self.message = message
        self.code = code
        self.field = field

    def __str__(self):
        return str(self.message)


class IllegalTransition(DomainError):
    """A status change that the lifecycle table does not allow."""
