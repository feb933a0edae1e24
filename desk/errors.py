"""Domain errors: one base with a machine code and a Chinese message for people."""


class DeskError(Exception):
    code = "desk_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DeskError):
    code = "not_found"
    status = 404


class Forbidden(DeskError):
    code = "forbidden"
    status = 403


class InvalidInput(DeskError):
    code = "invalid_input"
    status = 422


class CalendarUnknown(DeskError):
    """A date that neither chinesecalendar nor the holiday table covers."""

    code = "calendar_unknown"
    status = 500
