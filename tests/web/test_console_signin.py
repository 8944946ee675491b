"""A member of staff signs in to the console, sees only their menu, and signs out."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from factories.browser import DemoSite, assert_accessible, sign_in


def test_a_reviewer_signs_in_sees_the_reviewers_menu_and_signs_out(
    page: Page, demo_site: DemoSite
) -> None:
    page.goto("/console/")
    expect(page).to_have_url(f"{demo_site.base_url}/console/login?next=/console/")
    assert_accessible(page)
    sign_in(page, demo_site, "reviewer")
    menu = page.get_by_role("navigation", name="功能菜单")
    expect(menu.get_by_role("link", name="审核队列")).to_be_visible()
    expect(menu.get_by_role("link", name="黑名单")).to_have_count(0)
    expect(menu.get_by_role("link", name="员工账号")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()
    page.goto("/console/")
    expect(page).to_have_url(f"{demo_site.base_url}/console/login?next=/console/")


def test_a_wrong_password_is_refused_in_the_page_language(page: Page, demo_site: DemoSite) -> None:
    sign_in_page = "/console/login"
    page.goto(sign_in_page)
    page.get_by_label("用户名").fill("reviewer")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确。")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_the_api_docs_load_with_nothing_from_outside(page: Page, demo_site: DemoSite) -> None:
    # The document is built on its first request and is large: both viewers render only
    # after it has arrived, so the test waits for that answer, then gives the render time
    # (rendering several hundred operations takes seconds on a busy machine).
    with page.expect_response("**/openapi.json", timeout=60_000) as document:
        page.goto("/docs")
    assert document.value.ok
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("fairslot", exact=False).first).to_be_visible()
    with page.expect_response("**/openapi.json", timeout=60_000) as document:
        page.goto("/redoc")
    assert document.value.ok
    expect(page.locator("h1").first).to_contain_text("fairslot", timeout=30_000)
