"""API errors as the real server reports them: a `Status` object with reason and code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the sandbox answers with a `meta/v1 Status` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        }
        if self.reason:  # Go omits an empty reason
            body["reason"] = self.reason
        if self.details:
            body["details"] = self.details
        return body


def _details(group: str, kind: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{group_resource} "{name}" not found', _details(group, plural, name))


def already_exists(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{group_resource} "{name}" already exists', _details(group, plural, name)
    )


def conflict(group_resource: str, group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {group_resource} "{name}": {why}',
        _details(group, plural, name),
    )


def stale_write(group_resource: str, group: str, plural: str, name: str) -> ApiError:
    return conflict(
        group_resource,
        group,
        plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid. Each cause is (field, reason, message), e.g. ("spec.replicas", "FieldValueInvalid", "...")."""
    parts = [f"{f}: {m}" for f, _, m in causes]
    message = f'{kind}.{group} "{name}" is invalid: ' if group else f'{kind} "{name}" is invalid: '
    message += ", ".join(parts) if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = _details(group, kind, name)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, "Invalid", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> ApiError:
    """415 for an unknown patch type (the real message does not repeat the type it got)."""
    del content_type
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
    )
