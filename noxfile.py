"""Developer tasks, one session per tool. ``nox`` runs them all; ``nox -s tests`` one.

The default sessions are the test run of CI. ``bench`` is never part of it.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "architecture", "tests"]

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (unit, contract, integration, end-to-end, real browser).

    The browser tests drive Debian's Chromium and ChromeDriver; they are
    installed with apt-get when missing and this runs as root.
    """
    _install_debian_packages(
        session, {"/usr/bin/chromium": "chromium", "/usr/bin/chromedriver": "chromium-driver"}
    )
    session.install("-e", ".[test]")
    # A payment provider plug-in outside accessgate (tests/plugins): found through
    # its entry point, never imported by accessgate.
    session.install("--no-deps", "-e", "tests/plugins/acme_pay")
    # An access target plug-in outside accessgate, found the same way.
    session.install("--no-deps", "-e", "tests/plugins/acme_target")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", "src", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy --strict."""
    session.install("-e", ".[test]", "mypy>=1.13")
    session.run("mypy")


@nox.session(python=PYTHON)
def architecture(session: nox.Session) -> None:
    """Enforce the hexagon's dependency rule with import-linter."""
    session.install("-e", ".", "import-linter>=2.1")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmark on this machine (never part of the test run).

    ``nox -s bench`` (about 15 minutes) or ``nox -s bench -- --quick`` (a few);
    writes bench/results/<date>.json and .md. Installs wrk with apt-get if missing.
    """
    _install_debian_packages(session, {"wrk": "wrk"})
    if shutil.which("wrk") is None:
        session.warn("wrk is not installed: the HTTP benchmarks will be skipped")
    session.install("-e", ".[all,bench]")
    session.run("python", "-m", "bench.run", *session.posargs)


def _install_debian_packages(session: nox.Session, wanted: dict[str, str]) -> None:
    """Install the Debian packages whose program (a name or a path) is missing.

    Only as root with apt-get; elsewhere the tests that need them skip (and fail
    under CI), and a warning says what to install.
    """
    missing = sorted({pkg for program, pkg in wanted.items() if shutil.which(program) is None})
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        session.warn(f"not installed: {' '.join(missing)} (apt-get install them as root)")
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=env, success_codes=[0, 100])
    session.run("apt-get", "install", "-y", "-qq", *missing, external=True, env=env)
