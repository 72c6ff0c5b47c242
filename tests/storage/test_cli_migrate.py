"""``accessgate migrate`` on the DATABASE_URL of the environment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from accessgate.adapters.sqlalchemy.migrate import current_revision, head_revision
from accessgate.entrypoints.cli import main
from tests.storage import helpers as h


def test_migrate_upgrades_the_database_of_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = h.sqlite_url(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert head_revision() in capsys.readouterr().out
    assert asyncio.run(current_revision(url)) == head_revision()
    assert main(["migrate"]) == 0  # already at head: nothing to do


def test_migrate_sql_prints_the_script_and_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop:secret@db.invalid/shop")
    assert main(["migrate", "--sql", "--revision", "head"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE payment_events" in out
    assert "secret" not in out


def test_migrate_reports_an_unreachable_database_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop:secret@127.0.0.1:1/shop")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert "Storage temporarily unavailable" in err
    assert "secret" not in err
    assert "Traceback" not in err


def test_migrate_refuses_an_unknown_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", h.sqlite_url(tmp_path))
    assert main(["migrate", "--revision", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
