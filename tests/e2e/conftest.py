"""One server subprocess for the end-to-end tests of this directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running
