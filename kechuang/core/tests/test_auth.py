"""Log-in, lock-out, password hashing, sessions, API tokens and settings parsing."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from kechuang import env


def test_production_hasher_is_argon2():
    import importlib

    import kechuang.settings as prod

    importlib.reload(prod)
    assert prod.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_login_then_home_in_chinese(client, officer):
    response = client.post(
        "/accounts/login/", {"username": "officer", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "企业" in home.content.decode()


def test_repeated_failures_lock_the_account(client, officer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "officer", "password": "wrong-password"})
    locked = client.post(
        "/accounts/login/", {"username": "officer", "password": "correct-horse-battery"}
    )
    assert locked.status_code == 429
    assert "/accounts/login/" not in locked.get("Location", "")
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_api_token_authenticates_and_bad_token_is_refused(client, officer, api_for):
    from rest_framework.test import APIClient

    assert api_for(officer).get("/api/jurisdictions/").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = bad.get("/api/jurisdictions/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_rotating_the_token_invalidates_the_old_one(client_for, officer, api_for):
    from rest_framework.authtoken.models import Token

    api_for(officer)
    old = Token.objects.get(user=officer).key
    client_for(officer).post("/core/profile/token/")
    new = Token.objects.get(user=officer).key
    assert new != old
    from kechuang.core.models import AuditEntry

    event = AuditEntry.objects.for_object(officer).get()
    assert (event.event, event.actor) == ("api_token_rotated", officer)


def test_bad_boolean_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env.env_bool("DEBUG", False)


def test_bad_integer_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_AGE", "eight hours")
    with pytest.raises(ImproperlyConfigured, match="SESSION_COOKIE_AGE"):
        env.env_int("SESSION_COOKIE_AGE", 1)


def test_api_errors_have_one_shape(api_for, officer):
    response = api_for(officer).get("/api/enterprises/999999/")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}
    invalid = api_for(officer).post("/api/enterprises/", {"name": ""}, format="json")
    assert invalid.status_code in (400, 403)
    assert "error" in invalid.json()


def test_openapi_schema_and_docs_are_served_offline(client):
    schema = client.get("/api/schema")
    assert schema.status_code == 200
    assert b"/api/enterprises/" in schema.content
    docs = client.get("/api/docs").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()


def test_chinese_by_default_even_for_an_english_browser(client, officer):
    client.force_login(officer)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in page.content.decode()
    assert "首页" in page.content.decode()


def test_language_switch_gives_english(client, officer):
    client.force_login(officer)
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in page.content.decode()
    assert "Home" in page.content.decode()


def test_marking_notifications_read_touches_only_mine(client_for, officer, town_officer):
    from kechuang.core.models import Notification

    Notification.objects.create(recipient=officer, title="a")
    theirs = Notification.objects.create(recipient=town_officer, title="b")
    client_for(officer).post("/core/notifications/read/")
    assert not Notification.objects.filter(recipient=officer, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
