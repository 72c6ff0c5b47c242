"""``/`` for people, the API docs offline with the envelope under ``/schema``,
the activation page in the order's language, and the pending page that stops."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

from accessgate.entrypoints.http.openapi import DOCS_HEADERS
from accessgate.entrypoints.http.pages.pay import FAST_REFRESHES, MAX_REFRESHES
from tests.pages.site import Site

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
ASSET = re.compile(r"""(?:src|href)="(/schema/assets/[^"]+)\"""")


async def test_root_redirects_people_to_the_pay_form_with_the_query(site: Site) -> None:
    root = await site.client.get("/")
    assert root.status_code in (302, 303)
    assert root.headers["location"] == "/pay"
    carried = await site.client.get("/", params={"clickid": "clk-1", "lang": "ru"})
    assert carried.headers["location"] == "/pay?clickid=clk-1&lang=ru"
    page = await site.client.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


async def test_docs_pages_load_only_from_this_service(site: Site) -> None:
    for path in ("/schema", "/schema/swagger"):
        page = await site.client.get(path)
        assert page.status_code == 200, path
        assert "text/html" in page.headers["content-type"]
        assert not EXTERNAL.search(page.text), path
        assert "cdn" not in page.text.lower()
        assert "<script>" not in page.text  # no inline script: CSP script-src 'self'
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        assets = ASSET.findall(page.text)
        assert {a.rsplit("/", 1)[1] for a in assets} >= {
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "swagger-init.js",
        }
        for asset in assets:
            answer = await site.client.get(asset)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 100, asset
    assert DOCS_HEADERS["Content-Security-Policy"].startswith("default-src 'none'")
    init = await site.client.get("/schema/assets/swagger-init.js")
    assert "validatorUrl: null" in init.text
    assert not EXTERNAL.search(init.text)


async def test_unknown_schema_paths_answer_in_the_envelope(site: Site) -> None:
    for path in (
        "/schema/nope",
        "/schema/redoc",
        "/schema/elements",
        "/schema/rapidoc",
        "/schema/openapi.yaml",
        "/schema/assets/nope.js",
        "/schema/assets/swagger-editor.js",
        "/schema/a/b/c",
    ):
        response = await site.client.get(path)
        assert response.status_code == 404, path
        body = response.json()
        assert body["status"] == "error", path
        assert body["error"]["code"] == "NOT_FOUND", path
        assert "timestamp" in body


async def _token(site: Site, locale: str) -> str:
    started = await site.pay_form(
        email=f"{locale}@example.com", plan="one_time_basic", locale=locale
    )
    session_id = started.headers["location"].rsplit("/", 1)[1]
    await site.client.post(f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url})
    for _ in range(100):
        status = await site.client.get(
            "/api/payment/session-status", params={"session_id": session_id}
        )
        link = status.json().get("activation_link")
        if link:
            return str(parse_qs(urlsplit(link).query)["token"][0])
        await asyncio.sleep(0.05)
    raise AssertionError("no activation link")


async def test_activation_page_speaks_the_orders_language(site: Site) -> None:
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    token = await _token(site, "ru")
    form = await site.client.get("/activate", params={"token": token}, headers=english_browser)
    assert '<html lang="ru">' in form.text
    assert "Активация доступа" in form.text
    chosen = await site.client.get("/activate", params={"token": token, "lang": "en"})
    assert '<html lang="en">' in chosen.text
    unknown = await site.client.get(
        "/activate", params={"token": "x" * 40}, headers=english_browser
    )
    assert '<html lang="en">' in unknown.text
    done = await site.client.post(
        "/activate",
        data={"token": token, "telegram_user_id": "4242"},
        headers={"Origin": site.base_url, **english_browser},
    )
    assert done.status_code == 200
    assert "Доступ для этого аккаунта Telegram активен." in done.text
    english = await site.client.get(
        "/activate", params={"token": await _token(site, "en")}, headers={"Accept-Language": "ru"}
    )
    assert '<html lang="en">' in english.text


async def test_pending_page_refreshes_a_bounded_number_of_times(site: Site) -> None:
    started = await site.pay_form(email="a@example.com", plan="one_time_basic", locale="ru")
    session_id = started.headers["location"].rsplit("/", 1)[1]

    async def success(**query: str) -> str:
        page = await site.client.get("/pay/success", params={"session_id": session_id, **query})
        assert page.status_code == 200
        return page.text

    first = await success()
    assert 'data-status="pending"' in first
    refresh = re.search(r'<meta http-equiv="refresh" content="(\d+);url=([^"]+)">', first)
    assert refresh is not None
    assert refresh.group(1) == "3"
    follow = parse_qs(urlsplit(refresh.group(2).replace("&amp;", "&")).query)
    assert follow["n"] == ["1"]
    assert follow["session_id"] == [session_id]

    slower = await success(n=str(FAST_REFRESHES))
    assert (
        f'content="10;url=/pay/success?session_id={session_id}&amp;n={FAST_REFRESHES + 1}"'
        in slower
    )

    stopped = await success(n=str(MAX_REFRESHES))
    assert '<meta http-equiv="refresh"' not in stopped
    assert 'data-status="stalled"' in stopped
    assert "Оплата пока не поступила" in stopped
    assert 'href="/pay?plan=one_time_basic&amp;lang=ru"' in stopped
    assert f'id="check-again" class="button" href="/pay/success?session_id={session_id}"' in stopped
    beyond = await success(n="999999")
    assert 'data-status="stalled"' in beyond
    junk = await success(n="-1")
    assert 'data-status="pending"' in junk
