"""Domain errors carry their HTTP status; one handler renders them."""

from typing import Any


class DomainError(Exception):
    """Base of every rule the service layer refuses.

    A subclass names its status and code in its header:
    ``class Conflict(DomainError, status=409, code="conflict")``.
    """

    status_code = 400
    code = "error"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code

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


class Unauthenticated(DomainError, status=401, code="unauthenticated"):
    """No valid sign-in."""


class Forbidden(DomainError, status=403, code="forbidden"):
    """Signed in, but this actor may not do this."""


class NotFound(DomainError, status=404, code="not_found"):
    """No such object (or none this actor may know of)."""


class Conflict(DomainError, status=409, code="conflict"):
    """The object's current state does not allow it (closed, already taken, changed)."""


class PayloadTooLarge(DomainError, status=413, code="payload_too_large"):
    """An upload over the size limit."""


class Invalid(DomainError, status=422, code="invalid"):
    """Input that breaks a rule; ``field`` names the offending field."""


class InvalidFields(Invalid):
    """Several inputs refused at once (``problems``: field → message), so a form can show
    every one together; ``field`` and ``detail`` are the first, as for a single refusal."""

    def __init__(self, problems: dict[str, str]) -> None:
        field, detail = next(iter(problems.items()))
        super().__init__(detail, field=field, problems=dict(problems))
        self.problems = dict(problems)


class TooManyRequests(DomainError, status=429, code="too_many_requests"):
    """Throttled: too many failed attempts."""
