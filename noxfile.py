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
    _compile_bytecode(session)
    session.install("-e", ".[test]")
    # A payment provider plug-in outside accessgate (tests/plugins): found through
    # its entry point, never imported by accessgate.
    session.install("--no-deps", "-e", "tests/plugins/acme_pay")
    # An access target plug-in outside accessgate, found the same way.
    session.install("--no-deps", "-e", "tests/plugins/acme_target")
    session.run("python", "-m", "compileall", "-q", "-j", "0", "src", "tests", silent=True)
    session.run("pytest", *session.posargs)


def _compile_bytecode(session: nox.Session) -> None:
    """Install packages with their bytecode compiled.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (as on the CI machines) nothing is
    ever cached on import, and every server the tests start compiled the whole
    stack again: about 3 s of CPU per process on a small machine.
    """
    session.env["UV_COMPILE_BYTECODE"] = "1"


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
    _compile_bytecode(session)
    session.install("-e", ".[all,bench]")
    session.run("python", "-m", "bench.run", *session.posargs)


# The functions whose arguments are texts to translate (accessgate.support.i18n);
# tests/unit/test_i18n.py extracts with the same keywords.
I18N_KEYWORDS = ("translate:2", "plural:2,3", "translate_in_context:2c,3", "mark")


@nox.session(python=PYTHON)
def i18n(session: nox.Session) -> None:
    """Extract the texts and update the catalogues with them (not a default session).

    ``pybabel extract`` (babel.cfg: Python and the Jinja templates under src/)
    writes a template (.pot, in the session's temporary folder); ``pybabel update``
    merges it into every catalogue, new texts untranslated. Translate them in the .po files, then run
    the tests (tests/unit/test_i18n.py fails on an untranslated Russian text).
    See docs/translations.md.
    """
    session.install("Babel>=2.14", "jinja2>=3.1")
    keywords = [f"--keyword={spec}" for spec in I18N_KEYWORDS]
    pot = os.path.join(session.create_tmp(), "accessgate.pot")
    session.run(
        "pybabel", "extract", "--mapping-file=babel.cfg", *keywords, "--no-wrap",
        "--sort-by-file", "--project=accessgate", "--copyright-holder=accessgate contributors",
        f"--output-file={pot}", ".",
    )  # fmt: skip
    session.run(
        "pybabel", "update", f"--input-file={pot}", "--output-dir=src/accessgate/locale",
        "--domain=accessgate", "--no-wrap", "--ignore-obsolete", *session.posargs,
    )  # fmt: skip


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
