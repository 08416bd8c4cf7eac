"""Domain errors carry their HTTP status; one handler renders them."""

from typing import Any


class DomainError(Exception):
    """Base of every rule the service layer refuses."""

    status_code = 400
    code = "error"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def as_json(self) -> dict[str, Any]:
        """The API body: ``{"detail", "code"}`` plus the field and extras when known."""
        body: dict[str, Any] = {"detail": self.detail, "code": self.code}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class Invalid(DomainError):
    status_code = 422
    code = "invalid"


class InvalidFields(Invalid):
    """Several inputs refused at once (``problems``: field → message), so a form can show
    every one together; ``field`` and ``detail`` are the first, as for a single refusal."""

    def __init__(self, problems: dict[str, str]) -> None:
        field, detail = next(iter(problems.items()))
        super().__init__(detail, field=field, problems=dict(problems))
        self.problems = dict(problems)


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"
