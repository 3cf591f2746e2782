"""Error views (handler400/403/404/500): the API's JSON error body under /api/, pages elsewhere.

DRF's exception handler (core.rest) answers errors raised inside API views; these cover
the rest — an unknown /api/ path, an exception outside a view, a BadRequest raised by a
parameter parser on a page — so no API client ever receives an HTML error page.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from kechuang.core.parsing import ParseError
from kechuang.core.rest import error_body, server_error_response

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request, exception=None):
    """400: the parser's message (Chinese on pages), or the JSON body in the API."""
    message = exception.message if isinstance(exception, ParseError) else ""
    if _is_api(request):
        name = getattr(exception, "name", "") or "non_field_errors"
        details = {name: [message]} if message else {}
        return JsonResponse(
            error_body(
                "invalid" if message else "bad_request", message or _("Bad request."), details
            ),
            status=400,
        )
    return render(request, "400.html", {"message": message}, status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", _("You are not allowed to do this.")), status=403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return server_error_response(request)  # Django has already logged the exception
    return defaults.server_error(request)
