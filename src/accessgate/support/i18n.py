"""The translations of every text a user reads: the bot, the pages, the emails.

One set of gettext catalogues, managed with Babel, holds them:
``accessgate/locale/<locale>/LC_MESSAGES/accessgate.po``. The message id is the
English text itself, so English needs no translation and a missing entry falls
back to English. The ``.po`` files are read at run time (once per process, on
first use) with :func:`babel.messages.pofile.read_po` and compiled in memory:
a fresh clone or a wheel needs no ``pybabel compile`` step.

Placeholders use :meth:`str.format` syntax (``"for {n} days"``) and are filled
*after* translation, so a translator may move them. Without ``params`` the text
is returned as it stands (braces are not interpreted).

Translators: ``nox -s i18n`` extracts the strings and updates the catalogues
(docs/translations.md).
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "accessgate"
LOCALES: tuple[str, ...] = ("ru", "en")
SOURCE_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogue_path(locale: str) -> Path:
    """Where the ``.po`` catalogue of ``locale`` lives."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalise(locale: str | None) -> str:
    """The catalogue ``locale`` names: ``ru``, ``RU``, ``ru-RU``, ``ru_RU`` -> ``ru``; else English."""
    if not locale:
        return SOURCE_LOCALE
    primary = str(locale).strip().lower().replace("-", "_").partition("_")[0]
    return primary if primary in LOCALES else SOURCE_LOCALE


def translations(locale: str | None) -> gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (English, or an unknown locale, has none)."""
    return _load(normalise(locale))


@functools.cache
def _load(code: str) -> gettext.NullTranslations:
    # Cached per catalogue locale only: arbitrary language codes never grow the cache.
    path = catalogue_path(code)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy and untranslated entries are left out, as msgfmt does
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _fill(text: str, params: dict[str, object]) -> str:
    return text.format(**params) if params else text


def translate(locale: str, message: str, /, **params: object) -> str:
    """``message`` (its English text is the msgid) in ``locale``, then ``format(**params)``."""
    return _fill(translations(locale).gettext(message), params)


def translate_in_context(locale: str, context: str, message: str, /, **params: object) -> str:
    """Like :func:`translate`, for an English text that reads differently by context (``msgctxt``)."""
    return _fill(translations(locale).pgettext(context, message), params)


def mark(message: str, /) -> str:
    """``message`` unchanged: marks an English text for extraction, translated later (``N_``)."""
    return message


def plural(locale: str, singular: str, plural: str, n: int, /, **params: object) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``locale`` (``{n}`` is filled in too)."""
    return translations(locale).ngettext(singular, plural, n).format(**{"n": n, **params})
