"""Which form posts count as coming from this site (``same_origin``), header by header.

The service is reached at ``http://127.0.0.1:8000`` and published as
``https://shop.example``; both are its origins.
"""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import RequestFactory

from accessgate.config import Settings
from accessgate.entrypoints.http.pages.render import PAGE_HEADERS, parse_origin, same_origin

LOCAL = "http://127.0.0.1:8000"
PUBLIC = "https://shop.example"
APP = Litestar(
    route_handlers=[],
    state=State(
        {"settings": Settings.for_tests(accessgate_env="test", app_public_base_url=PUBLIC)}
    ),
)
FACTORY = RequestFactory(app=APP, server="127.0.0.1", port=8000)


def allowed(headers: dict[str, str]) -> bool:
    return same_origin(FACTORY.post("/pay", headers=headers))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-headers-curl"),
        pytest.param({"Origin": LOCAL}, id="origin-local"),
        pytest.param({"Origin": PUBLIC}, id="origin-public"),
        pytest.param({"Origin": "https://shop.example:443"}, id="origin-default-port"),
        pytest.param({"Origin": "HTTPS://SHOP.EXAMPLE"}, id="origin-case"),
        pytest.param({"Origin": LOCAL, "Sec-Fetch-Site": "same-origin"}, id="chromium-same-origin"),
        pytest.param({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, id="null-vouched"),
        pytest.param({"Origin": "null", "Sec-Fetch-Site": "none"}, id="null-user-typed"),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, id="fetch-site-only"),
        pytest.param({"Sec-Fetch-Site": "none"}, id="fetch-site-none"),
        pytest.param({"Referer": f"{LOCAL}/pay?lang=en"}, id="referer-local"),
        pytest.param({"Referer": f"{PUBLIC}/activate?token=x"}, id="referer-public"),
        pytest.param(
            {"Sec-Fetch-Site": "same-origin", "Referer": "https://evil.example/"},
            id="vouched-beats-referer",
        ),
    ],
)
def test_the_sites_own_posts_are_accepted(headers: dict[str, str]) -> None:
    assert allowed(headers)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "https://evil.example"}, id="foreign-origin"),
        pytest.param({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, id="xs"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, id="cross-site"),
        pytest.param({"Sec-Fetch-Site": "same-site"}, id="same-site"),
        pytest.param({"Origin": LOCAL, "Sec-Fetch-Site": "cross-site"}, id="cross-site-wins"),
        pytest.param(
            {"Origin": "https://evil.shop.example", "Sec-Fetch-Site": "same-site"}, id="subdomain"
        ),
        pytest.param({"Origin": "null"}, id="null-alone"),
        pytest.param({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, id="null-cross-site"),
        pytest.param({"Origin": "null", "Sec-Fetch-Site": "same-site"}, id="null-same-site"),
        pytest.param({"Origin": "http://127.0.0.1:8000.evil.test"}, id="lookalike-port"),
        pytest.param({"Origin": "http://127.0.0.1.evil.test:8000"}, id="lookalike-host"),
        pytest.param({"Origin": "http://127.0.0.1:8000@evil.test"}, id="userinfo"),
        pytest.param({"Origin": "http://127.0.0.1:8001"}, id="other-port"),
        pytest.param({"Origin": "https://127.0.0.1:8000"}, id="other-scheme"),
        pytest.param({"Origin": "http://shop.example"}, id="public-over-http"),
        pytest.param({"Origin": "https://shop.example.evil.test"}, id="public-lookalike"),
        pytest.param({"Origin": "javascript:alert(1)"}, id="not-an-origin"),
        pytest.param({"Origin": ""}, id="empty-origin"),
        pytest.param({"Referer": "https://evil.example/pay"}, id="foreign-referer"),
        pytest.param({"Referer": "http://127.0.0.1:8000.evil.test/pay"}, id="lookalike-referer"),
        pytest.param(
            {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
            id="foreign-origin-despite-fetch-site",
        ),
    ],
)
def test_other_sites_posts_are_refused(headers: dict[str, str]) -> None:
    assert not allowed(headers)


def test_parse_origin_normalises_and_refuses_junk() -> None:
    assert parse_origin("HTTP://Example.COM") == ("http", "example.com", 80)
    assert parse_origin("https://example.com:8443/a?b") == ("https", "example.com", 8443)
    assert parse_origin("http://a:8000.evil.test") is None
    assert parse_origin("ftp://example.com") is None
    assert parse_origin("null") is None


def test_referrer_policy_keeps_the_origin_and_nothing_leaves_the_site() -> None:
    # no-referrer made Chromium send "Origin: null" on the site's own form posts.
    assert PAGE_HEADERS["Referrer-Policy"] == "same-origin"
