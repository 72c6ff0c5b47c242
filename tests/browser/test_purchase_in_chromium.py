"""The whole purchase clicked through in a real Chromium, in ru and in en.

``/pay`` (email, plan, submit) -> the sandbox checkout -> Pay -> the success
page (refreshing until the activation link appears) -> the activation page
(in the order's language, whatever the browser's) -> submit -> activated.
Any refusal page ("sent from another site", 403) fails the test. The API's
documentation page must render offline under its Content-Security-Policy.
"""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from accessgate.domain.model.values import Locale
from accessgate.support.i18n import translate, translate_in_context
from tests.e2e.server import Server

WAIT = 30  # seconds, per step; the success page refreshes every 3 s
REFUSALS = [
    translate(locale, "This form was sent from another site and was refused.") for locale in Locale
]


def wait(browser: Any) -> WebDriverWait[Any]:
    return WebDriverWait(browser, WAIT, poll_frequency=0.2)


def page_text(browser: Any) -> str:
    text: str = browser.find_element(By.TAG_NAME, "body").text
    return text


def assert_not_refused(browser: Any, step: str) -> None:
    source: str = browser.page_source
    for refusal in REFUSALS:
        assert refusal not in source, f"{step}: the browser's own form post was refused"
    assert "403" not in browser.title, step


def arrive(browser: Any, fragment: str, step: str) -> None:
    """Wait for the page at ``fragment``, or a refusal page (which fails at once)."""

    def settled(driver: Any) -> bool:
        source: str = driver.page_source
        return fragment in driver.current_url or any(r in source for r in REFUSALS)

    wait(browser).until(settled)
    assert_not_refused(browser, step)
    assert fragment in browser.current_url, step


def assert_language(browser: Any, locale: Locale, step: str) -> None:
    lang = browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
    assert lang == locale.value, f"{step}: the page speaks {lang}, not {locale.value}"


@pytest.mark.parametrize(
    ("locale", "plan"), [(Locale.RU, "sub_monthly"), (Locale.EN, "one_time_basic")]
)
def test_buy_and_activate_in_a_real_browser(
    browser: Any, server: Server, locale: Locale, plan: str
) -> None:
    lang = locale.value
    email = f"browser-{locale.value}@example.com"

    browser.get(f"{server.base_url}/pay?lang={locale.value}")
    assert_language(browser, locale, "/pay")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, f'input[name="plan"][value="{plan}"]').click()
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()

    arrive(browser, "/sandbox/checkout/", "/pay -> checkout")
    assert_language(browser, locale, "checkout")
    assert email in page_text(browser)
    browser.find_element(By.NAME, "pay").click()

    arrive(browser, "/pay/success", "Pay -> success")
    activation = wait(browser).until(ec.element_to_be_clickable((By.ID, "activation")))
    assert_language(browser, locale, "success")
    assert translate(lang, "Payment received. Your access is ready.") in page_text(browser)
    link = activation.get_attribute("href")
    assert link.startswith(f"{server.base_url}/activate?token=")
    activation.click()

    arrive(browser, "/activate", "success -> activation page")
    assert_language(browser, locale, "activation page (the order's language)")
    assert translate_in_context(lang, "page title", "Activate access") in page_text(browser)
    field = browser.find_element(By.ID, "telegram_user_id")
    field.send_keys("777000123" if locale is Locale.RU else "777000456")
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()

    status = wait(browser).until(
        lambda driver: (
            driver.find_elements(By.ID, "status") or any(r in driver.page_source for r in REFUSALS)
        )
    )
    assert_not_refused(browser, "activation form")
    status = browser.find_element(By.ID, "status")
    assert status.get_attribute("data-status") == "active"
    assert translate(lang, "Access is active for this Telegram account.") in page_text(browser)
    assert_language(browser, locale, "activated")


def test_root_leads_people_to_the_pay_form(browser: Any, server: Server) -> None:
    browser.get(f"{server.base_url}/")
    assert browser.current_url.startswith(f"{server.base_url}/pay")
    assert browser.find_element(By.ID, "email").is_displayed()


def test_api_docs_render_offline_under_their_csp(browser: Any, server: Server) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(f"{server.base_url}/schema")
    title = wait(browser).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title"))
    )
    assert "accessgate API" in title.text
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".swagger-ui .opblock")))
    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
    ]
    assert problems == []
