"""REST plumbing loaded by DRF's settings: kept free of viewset imports to avoid cycles."""

import logging

from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, permissions

from kechuang.core.parsing import ParseError

logger = logging.getLogger("django.request")


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class Conflict(exceptions.APIException):
    """409: the request was based on an old version of the record (If-Match / row_version)."""

    status_code = 409
    default_detail = "The record was changed by someone else."
    default_code = "conflict"

    def __init__(self, detail=None, *, details=None):
        super().__init__(detail=detail)
        self.details = details or {}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    """The one error body of the API (documented as the `Error` component of the schema)."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _as_api_exception(exc: Exception) -> Exception:
    """Map Django's and the platform's own errors to DRF's; add new error types here."""
    from kechuang.core.exceptions import ConflictError

    if isinstance(exc, ConflictError):  # before ValidationError, of which it is a kind
        return Conflict(detail=exc.messages[0], details=exc.details)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(detail=detail)
    if isinstance(exc, ParseError):  # a query parameter or path value that cannot be read
        return exceptions.ValidationError(
            detail={getattr(exc, "name", "") or "non_field_errors": [exc.message]}
        )
    if isinstance(exc, BadRequest):
        return exceptions.ParseError(detail=str(exc) or None)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        # Keep the service's reason ("… are not deleted") rather than a generic refusal.
        return exceptions.PermissionDenied(detail=str(exc) or None)
    return exc


def exception_handler(exc, context):
    """Every error has the same body: {"error": {"code", "message", "details"}}, 500 included."""
    # Imported here: rest_framework.views reads DRF settings, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        set_rollback()  # as DRF does for the errors it handles (ATOMIC_REQUESTS)
        request = context.get("request")
        return server_error_response(getattr(request, "_request", request), exc)
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        details = data if isinstance(data, dict) else {"non_field_errors": data}
        body = error_body("invalid", "Invalid input.", details)
    else:
        message = data.get("detail", str(exc)) if isinstance(data, dict) else str(exc)
        code = getattr(message, "code", None) or getattr(exc, "default_code", "error")
        body = error_body(code, str(message), getattr(exc, "details", None))
    response.data = body
    return response


def server_error_response(request, exc: Exception | None = None):
    """A 500 in the API's body, logged like Django logs an uncaught exception; no traceback."""
    from django.core import signals
    from django.http import JsonResponse
    from django.utils.translation import gettext as _

    if exc is not None:
        logger.error(
            "Internal Server Error: %s",
            getattr(request, "path", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        # As Django's own handler does: the test client re-raises the exception.
        signals.got_request_exception.send(sender=None, request=request)
    return JsonResponse(
        error_body(
            "server_error",
            _(
                "Something went wrong; it has been logged. Try again later or tell the administrator."
            ),
        ),
        status=500,
    )


ANY_ROLE = "__any__"


class RolePermission(permissions.BasePermission):
    """Deny by default: a view must declare `allowed_roles` (or ANY_ROLE) to be reachable."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if getattr(user, "must_change_password", False):
            # After an administrator reset the one-time password opens only the password page;
            # a token issued before the reset must not go on working either.
            raise exceptions.PermissionDenied(
                _("Your password was reset: log in and choose a new one before using the API.")
            )
        roles = getattr(view, "allowed_roles", None)
        if roles is None:
            return False
        return roles == ANY_ROLE or user.is_superuser or user.role in roles


ERROR_STATUSES = {
    "400": "Invalid input or parameters; `details` names each field or parameter.",
    "401": "Not authenticated.",
    "403": "Authenticated but not allowed.",
    "404": "Not found, or outside what the user may see (the same answer).",
    "405": "Method not allowed.",
    "406": "The requested format is not available.",
    "409": "Conflict with the record's current state.",
    "415": "Unsupported media type of the request body.",
    "500": "Unexpected server error (logged; no details are given).",
}


def error_schema_hook(result, generator, request, public):
    """drf-spectacular postprocessing: document the error body on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": 'Every error: {"error": {"code", "message", "details"}}.',
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object", "additionalProperties": True},
                },
                "required": ["code", "message", "details"],
            }
        },
        "required": ["error"],
    }
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {"description": description, "content": content})
    return result
