"""Pages that depend on JavaScript, in a real Chromium."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_offline(live_server, page):
    # given: a record of every request the page makes
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # when
    page.goto(f"{live_server.url}/api/docs/")

    # then: Swagger UI drew the schema, and nothing left the machine
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert "/api/v1/me" in page.content()
    outside = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert outside == []


def test_navigation_works_on_a_phone(live_server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server.url + "/")
    login = page.locator(".site-nav").get_by_role("link", name="Log in")
    assert not login.is_visible()  # folded away behind the menu button
    page.locator("label.nav-toggle-label").click()
    assert login.is_visible()
    login.click()
    page.wait_for_url("**/login/")
    assert page.locator("h1").inner_text() == "Log in"
    # nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


def test_copy_button_and_revoke_confirmation(live_server, page, owner):
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.goto(live_server.url + "/account/")
    page.fill("#id_name", "script")
    page.click("button[name=create_token]")
    key = page.locator("#token-key").inner_text()
    assert key.startswith("adp_")
    page.click("[data-copy]")
    expect(page.locator("[data-copy]")).to_have_text("Copied")

    page.goto(live_server.url + "/account/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("text=Revoke")
    assert page.locator(".badge-ok").count() == 1  # dismissed: still active
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Revoke")
    page.wait_for_selector(".message-success")
    assert page.locator(".badge-muted").inner_text() == "revoked"
