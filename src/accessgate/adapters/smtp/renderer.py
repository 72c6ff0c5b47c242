"""Render the emails from templates: built-in ones, overridable by name from a directory.

Each email is three files named ``<template>.<part>``: ``subject.txt``, ``txt``
(the plain-text body) and ``html`` (the HTML alternative), one for every
language: their words come from the gettext catalogues (``{{ _("Hello,") }}``,
:mod:`accessgate.support.jinja_i18n`), in the language held by ``locale``.

A file of the same name in ``templates_dir`` replaces the built-in one for every
language; a file named ``<template>.<locale>.<part>`` there replaces it for that
language only, and may add a language the catalogues do not have (the layout of
the per-language templates before the catalogues, still honoured). Only
``.html`` files are autoescaped, so every value inserted into HTML is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import jinja2
import msgspec

from accessgate.domain.model.catalogue import DEFAULT_TITLES
from accessgate.domain.model.values import Locale
from accessgate.support import jinja_i18n

_SPACES = re.compile(r"\s+")

#: The languages of the built-in templates (the catalogues').
LOCALES = tuple(locale.value for locale in Locale)
#: The titles of seed 002's plans, per locale (``plan_title`` in templates) when
#: no catalogue is given; the service passes its catalogue's titles.
PLAN_TITLES: dict[str, dict[str, str]] = {
    locale: {code: names[Locale(locale)] for code, names in DEFAULT_TITLES.items()}
    for locale in LOCALES
}

#: Sample values of every variable each built-in template uses (start-up check).
SAMPLE_CONTEXTS: dict[str, dict[str, str]] = {
    "access": {
        "activation_link": "https://t.me/example_bot?start=sample",
        "plan": "one_time_basic",
        "order_id": "ord_sample",
    },
    "restore_code": {"code": "000000", "ttl_minutes": "10"},
    "customer_portal": {
        "portal_link": "https://billing.stripe.com/p/session/sample",
        "plan": "sub_monthly",
    },
}


class RenderedEmail(msgspec.Struct, frozen=True, kw_only=True):
    """A rendered email: one-line subject, plain text and HTML, and its language."""

    subject: str
    text: str
    html: str
    locale: str


class TemplateError(Exception):
    """A template is missing or fails to render (the message names no value)."""


class TemplateRenderer:
    """Renders templated emails with Jinja2.

    Args:
        templates_dir: a directory whose files override the built-in ones by name.
        default_locale: the language used when a message's locale has no templates.
        plan_titles: the plans' names, ``{locale: {plan code: title}}`` (the catalogue's
            titles); they replace or add to the titles of seed 002's plans.
        check: render every built-in template and locale once with sample values,
            so that a broken override fails at start-up, not at the first email.

    Raises:
        TemplateError: with ``check``, when a template does not render.

    """

    def __init__(
        self,
        *,
        templates_dir: str | Path | None = None,
        default_locale: str = "en",
        plan_titles: Mapping[str, Mapping[str, str]] | None = None,
        check: bool = True,
    ) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if templates_dir is not None:
            path = Path(templates_dir)
            if not path.is_dir():
                raise TemplateError(f"templates directory {path} does not exist")
            loaders.append(jinja2.FileSystemLoader(path))
        loaders.append(jinja2.PackageLoader("accessgate.adapters.smtp", "templates"))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        jinja_i18n.install(self._env, "locale")
        self._default_locale = str(default_locale)
        self._titles = {loc: dict(names) for loc, names in PLAN_TITLES.items()}
        for loc, names in (plan_titles or {}).items():
            self._titles.setdefault(loc, {}).update(names)
        if check:
            self.check()

    @property
    def default_locale(self) -> str:
        """The fallback language."""
        return self._default_locale

    def resolve_locale(self, template: str, locale: str | None) -> str:
        """``locale`` when it has a catalogue or its own ``template``, else the default locale."""
        if not locale:
            return self._default_locale
        if locale in LOCALES:
            return locale
        try:
            self._env.get_template(f"{template}.{locale}.txt")
        except jinja2.TemplateNotFound:
            return self._default_locale
        return locale

    def _part(self, template: str, locale: str, part: str) -> jinja2.Template:
        """The language's own file of ``part`` if there is one, else the shared template."""
        return self._env.select_template([f"{template}.{locale}.{part}", f"{template}.{part}"])

    def render(
        self, template: str, locale: str | None, context: Mapping[str, str]
    ) -> RenderedEmail:
        """Render the three parts of ``template`` in ``locale`` (or the default one).

        Raises:
            TemplateError: a missing template or a variable it needs.

        """
        resolved = self.resolve_locale(template, locale)
        values: dict[str, str] = dict(context)
        values["locale"] = resolved
        if "plan" in values:
            titles = self._titles.get(resolved, {})
            values.setdefault("plan_title", titles.get(values["plan"], values["plan"]))
        name = f"{template}.{resolved}"
        try:
            subject = self._part(template, resolved, "subject.txt").render(values)
            text = self._part(template, resolved, "txt").render(values)
            html = self._part(template, resolved, "html").render(values)
        except jinja2.TemplateNotFound as error:
            raise TemplateError(f"template {error.name} not found") from None
        except (jinja2.UndefinedError, jinja2.TemplateSyntaxError) as error:
            # These name a variable or a template line, never a value.
            raise TemplateError(f"template {name} failed: {error.message}") from None
        except Exception as error:
            raise TemplateError(f"template {name} failed: {type(error).__name__}") from None
        return RenderedEmail(
            subject=_SPACES.sub(" ", subject).strip(), text=text, html=html, locale=resolved
        )

    def check(self) -> None:
        """Render every known template in every built-in locale with sample values."""
        for template, sample in SAMPLE_CONTEXTS.items():
            for locale in LOCALES:
                self.render(template, locale, sample)
