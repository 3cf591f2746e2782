"""End to end in headless Chromium: a new user logs in, reads Chinese, switches to English.

Needs Debian's chromium (/usr/bin/chromium); .ci/run installs it and sets
KECHUANG_REQUIRE_BROWSER=1 so that CI fails instead of skipping.
"""

import os
import shutil
from pathlib import Path

import pytest

from kechuang.core.models import Role
from kechuang.core.tests.factories import UserFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "browser"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_or_skip():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("KECHUANG_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (KECHUANG_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_new_user_logs_in_reads_chinese_and_switches_to_english(live_server, officer, town):
    sync_api = _browser_or_skip()
    # Playwright's sync API runs an event loop in this thread; the live server
    # handles requests in its own thread, so the test thread's ORM use is safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    UserFactory(username="newcomer", role=Role.STATION, jurisdiction=town, display_name="新同事")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.goto(f"{live_server.url}/")
        assert "/accounts/login/" in page.url
        assert page.get_by_role("heading", name="登录科创平台").is_visible()
        page.fill("#id_username", "newcomer")
        page.fill("#id_password", "correct-horse-battery")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{live_server.url}/")
        nav = page.locator("#mainnav")
        assert nav.get_by_role("link", name="首页").is_visible()
        assert nav.get_by_role("link", name="企业库").is_visible()
        assert nav.get_by_text("新同事").is_visible()
        page.screenshot(path=str(OUTPUT / "home-zh.png"), full_page=True)
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state("networkidle")
        assert nav.get_by_role("link", name="Home").is_visible()
        assert nav.get_by_role("link", name="Enterprises").is_visible()
        assert nav.get_by_role("button", name="中文").is_visible()
        assert page.locator("html").get_attribute("lang") == "en"
        page.screenshot(path=str(OUTPUT / "home-en.png"), full_page=True)
        # A phone-sized screen gets the collapsed menu, not a broken layout.
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.get_by_role("button", name="Menu").is_visible()
        browser.close()
    assert (OUTPUT / "home-en.png").stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_enterprise_user_sees_its_policies_and_why(live_server):
    """The 精准推送 journey: an enterprise user opens 我的政策 and reads why, in Chinese."""
    from django.core.management import call_command

    from kechuang.core.demo import DEMO_PASSWORD

    sync_api = _browser_or_skip()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("demo-data", "--enterprises", "60", "--verbosity", "0")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "enterprise")
        page.fill("#id_password", DEMO_PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/")
        page.locator("#mainnav").get_by_role("link", name="我的政策").click()
        page.wait_for_load_state("networkidle")
        main = page.locator("main")
        assert main.get_by_role("heading", name="符合", exact=True).is_visible()
        assert main.get_by_text("政策").first.is_visible()
        why = main.get_by_role("link", name="原因").first
        assert why.is_visible()
        why.click()
        page.wait_for_load_state("networkidle")
        # The explanation names the verdict and at least one clause in Chinese.
        text = page.locator("main").inner_text()
        assert any(word in text for word in ("符合", "不符合", "无法判断"))
        page.screenshot(path=str(OUTPUT / "enterprise-why.png"), full_page=True)
        browser.close()
