"""Domain errors shared by every app's services."""


class DomainError(Exception):
    """A rule of the programme refused the request.

    ``message`` is translatable and safe to show the user; ``field`` names the
    form field it belongs to, if any; ``code`` is stable for tests and APIs.
    """

    def __init__(self, message, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class IllegalTransition(DomainError):
    """A status change that the lifecycle table does not allow."""
