"""REST plumbing loaded by DRF's settings: kept free of viewset imports to avoid cycles."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, permissions


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


def exception_handler(exc, context):
    """Every error has the same body: {"error": {"code", "message", "details"}}."""
    # Imported here: rest_framework.views reads DRF settings, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    from kechuang.core.exceptions import ConflictError

    if isinstance(exc, ConflictError):
        exc = Conflict(detail=exc.messages[0], details=exc.details)
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        # Keep the service's reason ("… are not deleted") rather than a generic refusal.
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": "Invalid input.", "details": data}
    else:
        message = data.get("detail", str(exc)) if isinstance(data, dict) else str(exc)
        code = getattr(message, "code", None) or getattr(exc, "default_code", "error")
        body = {"code": code, "message": str(message), "details": getattr(exc, "details", {})}
    response.data = {"error": body}
    return response


ANY_ROLE = "__any__"


class RolePermission(permissions.BasePermission):
    """Deny by default: a view must declare `allowed_roles` (or ANY_ROLE) to be reachable."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        roles = getattr(view, "allowed_roles", None)
        if roles is None:
            return False
        return roles == ANY_ROLE or user.is_superuser or user.role in roles
