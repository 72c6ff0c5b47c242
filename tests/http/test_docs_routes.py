"""The user docs name only endpoints that exist, with their real method."""

from __future__ import annotations

import re
from pathlib import Path

from .helpers import make_app

ROOT = Path(__file__).resolve().parents[2]
MENTION = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def _routes() -> list[tuple[re.Pattern[str], set[str]]]:
    app, _ = make_app()
    routes = []
    for route in app.routes:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path))
        routes.append((re.compile(f"{pattern}/?"), set(getattr(route, "methods", ()))))
    return routes


def test_every_endpoint_the_docs_mention_exists() -> None:
    routes = _routes()
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    unknown = []
    for page in pages:
        for method, path in MENTION.findall(page.read_text(encoding="utf-8")):
            if not any(p.fullmatch(path) and method in m for p, m in routes):
                unknown.append(f"{page.relative_to(ROOT)}: {method} {path}")
    assert not unknown, "the docs name endpoints that do not exist:\n" + "\n".join(unknown)
    assert any(p.fullmatch("/api/bot/access/status") for p, _ in routes)
