"""What stops ``accessgate serve`` before it starts: one line, a non-zero status, no traceback.

A missing optional package is simulated by a prelude that sets
``sys.modules[name] = None`` before the CLI runs: ``import name`` then fails
exactly as it does when the package is not installed.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessgate.adapters.sqlalchemy.migrate import head_revision
from accessgate.config import Settings
from tests.e2e.server import cli_command, free_port, hide_modules
from tests.services import postgres_url, unavailable

BOUND = 60.0
ROOT = Path(__file__).resolve().parents[2]
STRIPE = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_startupcheck",
    "STRIPE_WEBHOOK_SECRET": "whsec_startupcheck",
    "STRIPE_PRICE_ONE_TIME_BASIC": "price_basic",
    "STRIPE_PRICE_SUB_MONTHLY": "price_monthly",
}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    names = {name.upper() for name in Settings.__struct_fields__}
    env = {key: value for key, value in os.environ.items() if key not in names}
    return env | {"LOG_FORMAT": "text"} | (extra or {})


def _run(
    args: list[str], cwd: Path, env: dict[str, str], prelude: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        cli_command(args, prelude),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def _serve(
    cwd: Path, extra: dict[str, str] | None = None, prelude: str | None = None
) -> subprocess.CompletedProcess[str]:
    return _run(["serve", "--port", str(free_port())], cwd, _env(extra), prelude)


def _one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output
    assert "Uvicorn running" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_without_the_server_extra_names_it(tmp_path: Path) -> None:
    for module in ("uvicorn", "litestar"):
        line = _one_line_refusal(_serve(tmp_path, prelude=hide_modules(module)))
        assert line == (
            f"accessgate: the Python package '{module}' is missing: "
            "pip install 'accessgate[server]'"
        )


def test_stripe_without_the_stripe_package_does_not_start(tmp_path: Path) -> None:
    line = _one_line_refusal(_serve(tmp_path, STRIPE, prelude=hide_modules("stripe")))
    assert "pip install 'accessgate[stripe]'" in line


def test_postgres_without_asyncpg_does_not_start(tmp_path: Path) -> None:
    url = "postgresql://shop@127.0.0.1:1/shop"
    line = _one_line_refusal(_serve(tmp_path, {"DATABASE_URL": url}, hide_modules("asyncpg")))
    assert "pip install 'accessgate[postgres]'" in line


def test_worker_names_a_missing_extra_too(tmp_path: Path) -> None:
    result = _run(["worker"], tmp_path, _env(STRIPE), hide_modules("stripe"))
    assert "pip install 'accessgate[stripe]'" in _one_line_refusal(result)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """The URL of a new, empty (never migrated) PostgreSQL database; dropped afterwards."""
    import asyncpg  # type: ignore[import-untyped]

    base = postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    name = f"ag_unmigrated_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncio.wait_for(asyncpg.connect(base), 10)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.mark.postgres
def test_an_unmigrated_postgres_database_names_accessgate_migrate(
    tmp_path: Path, empty_database: str
) -> None:
    line = _one_line_refusal(_serve(tmp_path, {"DATABASE_URL": empty_database}))
    assert "run `accessgate migrate`" in line
    migrated = _run(["migrate"], tmp_path, _env({"DATABASE_URL": empty_database}))
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == f"database schema at revision {head_revision()}"


def test_a_postback_url_with_a_bad_scheme_names_the_variable(tmp_path: Path) -> None:
    url = "ftp://tracker.example/pb?cid={clickid}&s={status}"
    line = _one_line_refusal(_serve(tmp_path, {"MOBISLON_POSTBACK_URL": url}))
    assert "MOBISLON_POSTBACK_URL" in line
    assert "http://" in line


def test_a_broken_mail_template_stops_the_start(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "access.en.html").write_text("<p>{{ activation_link </p>\n", encoding="utf-8")
    line = _one_line_refusal(_serve(tmp_path, {"MAIL_TEMPLATES_DIR": str(templates)}))
    assert "MAIL_TEMPLATES_DIR" in line
    assert "access.en" in line


def test_outbox_list_never_creates_a_database(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run(["outbox", "list"], elsewhere, _env())
    line = _one_line_refusal(result)
    assert line.startswith("accessgate: no database at ")
    assert "DATABASE_URL" in line
    assert list(elsewhere.iterdir()) == []
    named = _env({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"})
    _one_line_refusal(_run(["outbox", "retry"], elsewhere, named))
    assert not (tmp_path / "other.db").exists()


def test_outbox_list_reads_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    assert _run(["migrate"], tmp_path, _env({"DATABASE_URL": url})).returncode == 0
    listed = _run(["outbox", "list"], tmp_path / "..", _env({"DATABASE_URL": url}))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("id\tchannel\tstatus")


def test_the_docs_show_the_revision_that_migrate_prints(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    printed = _run(["migrate"], tmp_path, _env({"DATABASE_URL": url})).stdout.strip()
    assert printed == f"database schema at revision {head_revision()}"
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    shown = re.findall(r"database schema at revision (\w+)", operations)
    assert shown, "docs/operations.md shows no output of accessgate migrate"
    assert set(shown) == {head_revision()}


def test_migrate_names_a_missing_driver(tmp_path: Path) -> None:
    env = _env({"DATABASE_URL": "postgresql://shop@127.0.0.1:1/shop"})
    result = _run(["migrate"], tmp_path, env, hide_modules("asyncpg"))
    line = _one_line_refusal(result)
    assert line == (
        "accessgate migrate: the Python package 'asyncpg' is missing: "
        "pip install 'accessgate[postgres]'"
    )
