"""/docs in a real headless Chromium: Swagger UI renders from the app's own assets, asks
no other origin for anything, and its Authorize button logs in."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable

import pytest

from tests.conftest import Project
from tests.test_real_process import request, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")
def test_swagger_ui_works_offline_and_authorizes(variant: Callable[[str], Project]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    project = variant("everything")
    url = project.migrated_database()
    email, password = f"{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase"

    with serve(project, project.env(url)) as base, sync_api.sync_playwright() as playwright:
        signup = request(f"{base}/api/v1/auth/signup", {"email": email, "password": password})
        assert signup[0] == 201
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        elsewhere: list[str] = []
        page = browser.new_page()
        page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
        page.goto(f"{base}/docs")

        page.locator(".auth-wrapper button.authorize").click()
        page.locator("#oauth_username").fill(email)
        page.locator("#oauth_password").fill(password)
        page.locator(".auth-btn-wrapper button.authorize").click()
        page.locator(".auth-container").get_by_text("Authorized").first.wait_for(timeout=15_000)
        page.locator(".auth-btn-wrapper button.btn-done").click()
        operation = page.locator("#operations-users-read_me_api_v1_users_me_get")
        operation.locator(".opblock-summary-control").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=10_000)
        answered = status.inner_text().strip()
        browser.close()

    assert answered == "200"
    assert elsewhere == []
