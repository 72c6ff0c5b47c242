"""The catalogues' translate functions inside Jinja templates (pages and emails).

:func:`install` gives an environment the usual gettext globals, bound at render
time to the language held by a context variable (``lang`` for the pages,
``locale`` for the emails)::

    {{ _("Order: {order_id}", order_id=order_id) }}
    {{ ngettext("{n} day", "{n} days", days) }}
    {{ pgettext("page title", "Activate access") }}

Placeholders use :meth:`str.format` syntax, like everywhere else in accessgate
(:mod:`accessgate.support.i18n`); they are filled after translation. In an
autoescaped template (HTML) the translated text is escaped like any value, and so
is every parameter unless it is already markup (``"<b>%s</b>"|safe % value``
escapes ``value`` and keeps the tags). ``pybabel extract`` finds these calls with
Jinja's Babel extractor (``babel.cfg``). Jinja's ``{% trans %}`` tag is not
installed: its ``%``-style placeholders would differ from the catalogues'.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import escape

from accessgate.support.i18n import SOURCE_LOCALE, translations


def _finish(context: Context, text: str, params: dict[str, Any]) -> str:
    if not context.eval_ctx.autoescape:
        return text.format(**params) if params else text
    safe = escape(text)
    return safe.format(**params) if params else safe


def install(environment: Environment, locale_variable: str) -> None:
    """Add ``_``, ``gettext``, ``ngettext`` and ``pgettext`` to ``environment``'s globals.

    They translate into the language named by the render context's
    ``locale_variable`` (English when it is missing or unknown).
    """

    def locale_of(context: Context) -> str:
        value = context.get(locale_variable)
        return str(value) if value else SOURCE_LOCALE

    @pass_context
    def gettext(context: Context, message: str, /, **params: Any) -> str:
        return _finish(context, translations(locale_of(context)).gettext(message), params)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = translations(locale_of(context)).ngettext(singular, plural, n)
        return _finish(context, text, {"n": n, **params})

    @pass_context
    def pgettext(context: Context, msgctxt: str, message: str, /, **params: Any) -> str:
        text = translations(locale_of(context)).pgettext(msgctxt, message)
        return _finish(context, text, params)

    environment.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext)
