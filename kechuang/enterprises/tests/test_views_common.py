from django.test import RequestFactory

from kechuang.enterprises.views.common import safe_next


def test_next_parameter_cannot_redirect_off_site():
    factory = RequestFactory()
    outside = factory.get("/x/", {"next": "https://evil.example/steal"})
    assert safe_next(outside, "/enterprises/issues/") == "/enterprises/issues/"
    scheme_relative = factory.get("/x/", {"next": "//evil.example/"})
    assert safe_next(scheme_relative, "/home/") == "/home/"
    inside = factory.get("/x/", {"next": "/enterprises/issues/?status=open"})
    assert safe_next(inside, "/home/") == "/enterprises/issues/?status=open"
