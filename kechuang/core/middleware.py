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
