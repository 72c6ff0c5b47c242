"""The gettext catalogues: every text of the code is translated, and the translate functions."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from babel.messages import frontend
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from accessgate.support import jinja_i18n
from accessgate.support.i18n import (
    LOCALES,
    catalogue_path,
    plural,
    translate,
    translate_in_context,
)

ROOT = Path(__file__).resolve().parents[2]
# The keywords of the nox i18n session (noxfile.py), in pybabel's -k syntax.
KEYWORDS = ("translate:2", "plural:2,3", "translate_in_context:2c,3", "mark")


def _used_messages() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """Every (context, msgid) that src/ uses, extracted as `nox -s i18n` does (babel.cfg)."""
    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse(config)
    keywords = {**frontend.DEFAULT_KEYWORDS, **frontend.parse_keywords(KEYWORDS)}
    src = str(ROOT / "src")

    def only_src(path: str) -> bool:
        return path == str(ROOT) or path.startswith(src)

    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords, directory_filter=only_src
    ):
        found.add((context, message))
    return found


def test_the_nox_session_extracts_with_the_same_keywords() -> None:
    noxfile = (ROOT / "noxfile.py").read_text()
    assert all(f'"{spec}"' in noxfile for spec in KEYWORDS)


def test_every_text_of_the_code_has_a_russian_translation() -> None:
    used = _used_messages()
    assert ("page title", "Activate access") in used  # templates (pgettext)
    assert (None, "Hello,") in used  # emails
    assert (None, ("per {n} day", "per {n} days")) in used  # Python (plural)
    with catalogue_path("ru").open("rb") as source:
        catalogue = read_po(source, locale="ru")
    untranslated = []
    for context, message in sorted(used, key=str):
        key = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(key, context)
        forms = entry.string if entry is not None else ""
        forms = forms if isinstance(forms, tuple) else (forms,)
        if entry is None or entry.fuzzy or not all(forms):
            untranslated.append(message)
    assert untranslated == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogues_parse_without_errors(locale: str) -> None:
    with catalogue_path(locale).open("rb") as source:
        catalogue = read_po(source, locale=locale, abort_invalid=True)
    assert catalogue.locale is not None
    assert str(catalogue.locale) == locale
    if locale == "ru":
        assert catalogue.num_plurals == 3


def test_translate_uses_the_catalogue_and_falls_back_to_english() -> None:
    assert translate("ru", "Pay for access") == "Оплатить доступ"
    assert translate("en", "Pay for access") == "Pay for access"
    assert translate("ru-RU", "Pay for access") == "Оплатить доступ"
    assert translate("de", "Pay for access") == "Pay for access"
    assert translate("ru", "A text nobody translated: {x}", x=1) == "A text nobody translated: 1"
    # Parameters are filled after translation; without them braces stay as written.
    assert translate("ru", "Order: {order_id}", order_id="o_1") == "Заказ: o_1"
    assert translate("ru", "{not a field}") == "{not a field}"
    assert translate_in_context("ru", "page title", "Activate access") == "Активация доступа"
    assert translate("ru", "Activate access") == "Активировать доступ"


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [(1, "на 1 день", "for 1 day"), (3, "на 3 дня", "for 3 days"), (11, "на 11 дней", "for 11 days"),
     (21, "на 21 день", "for 21 days")],
)  # fmt: skip
def test_plural_forms_follow_each_language(n: int, ru: str, en: str) -> None:
    assert plural("ru", "for {n} day", "for {n} days", n) == ru
    assert plural("en", "for {n} day", "for {n} days", n) == en


def test_templates_translate_by_the_context_language_and_escape_in_html() -> None:
    env = jinja2.Environment(autoescape=jinja2.select_autoescape(default_for_string=True))
    jinja_i18n.install(env, "lang")
    template = env.from_string(
        '{{ _("Order: {order_id}", order_id=order) }} {{ _("What you bought: {plan_title}",'
        ' plan_title="<b>%s</b>"|safe % plan) }}'
    )
    html = template.render(lang="ru", order="<i>", plan="a&b")
    assert html == "Заказ: &lt;i&gt; Что вы купили: <b>a&amp;b</b>"
    text = jinja2.Environment(autoescape=False)  # noqa: S701 - a plain-text email part
    jinja_i18n.install(text, "locale")
    assert text.from_string('{{ _("Order: {order_id}", order_id="<i>") }}').render() == (
        "Order: <i>"
    )
