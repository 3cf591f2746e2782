"""Request middleware of the platform."""


class ChineseByDefaultMiddleware:
    """Serve Simplified Chinese unless the user chose English with the language switch.

    Browsers on government desktops often send `Accept-Language: en-US` (an English OS
    image); the platform's language is the user's explicit choice (the language cookie
    set by the switch in the navigation bar), never the browser's guess. Placed before
    Django's LocaleMiddleware, which then sees only the cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


# No inline scripts anywhere: page scripts are static files reading json_script/data-*.
# Inline style attributes remain in templates (and htmx adds its indicator style), so
# style-src keeps 'unsafe-inline'; styles cannot run code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy header on every response (a view may set its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class PasswordChangeRequiredMiddleware:
    """After an administrator reset, the user must choose a new password before anything else."""

    ALLOWED = ("/accounts/password/", "/accounts/logout/", "/static/", "/i18n/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.ALLOWED)
            and not request.path.startswith("/api/")  # the API refuses in JSON (RolePermission)
        ):
            from django.shortcuts import redirect

            return redirect("password_change")
        return self.get_response(request)
