"""Login and session hardening: lock-out behind the proxy, login audit, passwords, CSP, caching."""

import re
from pathlib import Path

import pytest
from django.test import RequestFactory

from kechuang.core.auth import client_ip
from kechuang.core.models import AuditEntry, Role
from kechuang.core.tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
ROOT = Path(__file__).resolve().parents[2]


def login(client, username, password, address):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="10.0.0.2",  # the reverse proxy
        HTTP_X_FORWARDED_FOR=address,
    )


# -- client address and lock-out ----------------------------------------------


def test_client_address_is_the_socket_unless_behind_the_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(request) == "10.0.0.2"
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "203.0.113.7"


def test_a_forged_forwarded_entry_is_not_trusted(settings):
    settings.BEHIND_TLS_PROXY, settings.TRUSTED_PROXY_COUNT = True, 1
    # The client sent "1.1.1.1" itself; our proxy appended the address it really saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7"
    )
    assert client_ip(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 2  # two proxies: the second appended the first's view
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7, 10.0.0.2"
    )
    assert client_ip(request) == "203.0.113.7"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="nonsense")
    assert client_ip(garbage) == "10.0.0.2"


def test_behind_the_proxy_one_attackers_failures_do_not_lock_out_other_clients(
    client, officer, settings
):
    settings.BEHIND_TLS_PROXY = True
    officer.set_password(PASSWORD)
    officer.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "officer", "wrong-password", "203.0.113.66")
    assert login(client, "officer", PASSWORD, "203.0.113.66").status_code == 429
    assert login(client, "officer", PASSWORD, "198.51.100.4").status_code == 302


# -- login audit ----------------------------------------------------------------


def test_failed_login_and_lockout_are_audited_with_name_and_address(client, officer, settings):
    settings.BEHIND_TLS_PROXY = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "officer", "wrong-password", "203.0.113.66")
    failed = AuditEntry.objects.filter(event="login_failed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT
    entry = failed.first()
    assert entry.changes["username"] == "officer"
    assert entry.changes["address"] == "203.0.113.66"
    assert entry.object_id == str(officer.pk)
    assert entry.actor.username == "system:auth"
    locked = AuditEntry.objects.get(event="login_locked_out")
    assert locked.changes["username"] == "officer"
    assert locked.changes["address"] == "203.0.113.66"


def test_failed_login_for_an_unknown_name_is_audited(client, db):
    client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    entry = AuditEntry.objects.get(event="login_failed")
    assert entry.object_id == "" and entry.object_repr == "nobody"


# -- passwords --------------------------------------------------------------------


def test_user_changes_own_password_and_it_is_audited(client, enterprise_user):
    enterprise_user.set_password(PASSWORD)
    enterprise_user.save()
    client.force_login(enterprise_user)
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "修改密码" in page.content.decode()
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase-9",
            "new_password2": "a-much-better-passphrase-9",
        },
    )
    assert response.status_code == 302
    enterprise_user.refresh_from_db()
    assert enterprise_user.check_password("a-much-better-passphrase-9")
    assert AuditEntry.objects.for_object(enterprise_user).get().event == "password_changed"
    assert client.get("/core/profile/").status_code == 200  # still logged in


def test_wrong_old_password_changes_nothing(client, enterprise_user):
    enterprise_user.set_password(PASSWORD)
    enterprise_user.save()
    client.force_login(enterprise_user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "nope",
            "new_password1": "x-y-z-1234567",
            "new_password2": "x-y-z-1234567",
        },
    )
    assert response.status_code == 200
    enterprise_user.refresh_from_db()
    assert enterprise_user.check_password(PASSWORD)


def test_officer_resets_a_password_which_must_then_be_changed(client, officer, enterprise_user):
    client.force_login(officer)
    assert client.get("/core/users/").status_code == 200
    url = f"/core/users/{enterprise_user.pk}/reset-password/"
    page = client.post(url)
    assert "no-store" in page["Cache-Control"]
    password = re.search(r'id="one-time-password">([^<]+)<', page.content.decode()).group(1)
    entry = AuditEntry.objects.for_object(enterprise_user).get()
    assert entry.event == "password_reset" and entry.actor == officer
    assert password not in str(entry.changes)
    client.logout()
    response = client.post("/accounts/login/", {"username": "ent_user", "password": password})
    assert response.status_code == 302
    assert client.get("/").url == "/accounts/password/"  # nothing else until it is changed
    client.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "my-own-passphrase-42",
            "new_password2": "my-own-passphrase-42",
        },
    )
    assert client.get("/").status_code == 200


def test_a_reset_password_stops_the_old_api_token_until_changed(officer, enterprise_user):
    """The reset user's token refuses in the API's JSON body; a new password opens it again."""
    from rest_framework.test import APIClient

    from kechuang.core import services

    token = services.rotate_api_token(enterprise_user, acting_user=enterprise_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/enterprises/").status_code == 200
    services.reset_password(enterprise_user, acting_user=officer)
    refused = api.get("/api/enterprises/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    enterprise_user.refresh_from_db()
    enterprise_user.must_change_password = False
    enterprise_user.save(update_fields=["must_change_password"])
    assert api.get("/api/enterprises/").status_code == 200


def test_officer_cannot_reset_staff_or_system_passwords(client_for, officer, town):
    peer = UserFactory(username="peer", role=Role.COMMISSION)
    admin = UserFactory(username="root", role=Role.COMMISSION, is_superuser=True)
    from kechuang.core.services import system_actor

    client = client_for(officer)
    for target in (peer, admin, system_actor("auth"), officer):
        assert client.post(f"/core/users/{target.pk}/reset-password/").status_code == 404


def test_others_cannot_open_user_management(client_for, town_officer, enterprise_user):
    for person in (town_officer, enterprise_user):
        client = client_for(person)
        assert client.get("/core/users/").status_code == 403
        assert client.post(f"/core/users/{enterprise_user.pk}/reset-password/").status_code == 403


# -- headers and templates ------------------------------------------------------------


def test_pages_send_a_content_security_policy_without_inline_scripts(client_for, officer):
    response = client_for(officer).get("/")
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self';" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_profile_with_api_token_is_not_cached(client_for, officer):
    response = client_for(officer).get("/core/profile/")
    assert "no-store" in response["Cache-Control"]


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)


def test_no_template_has_an_inline_script_or_handler():
    offenders = []
    for path in ROOT.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            offenders += [
                f"{path.relative_to(ROOT)}: {m.group(0)[:60]}" for m in pattern.finditer(text)
            ]
    assert offenders == []


@pytest.mark.parametrize("url", ["/", "/enterprises/ladder/", "/core/profile/", "/api/docs"])
def test_rendered_pages_have_no_inline_script(client_for, officer, url):
    response = client_for(officer).get(url)
    assert response.status_code == 200
    assert INLINE_SCRIPT.findall(response.content.decode()) == []


def test_swagger_start_up_script_is_served_from_a_url(client):
    response = client.get("/api/docs?script=")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
