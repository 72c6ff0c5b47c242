"""The template renderer: built-in ru/en templates, escaping, overrides, locale fallback."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from accessgate.adapters.smtp.renderer import TemplateError, TemplateRenderer

ACCESS = {
    "activation_link": "https://t.me/shop_bot?start=TOKEN_abc",
    "plan": "sub_monthly",
    "order_id": "ord_000001",
}
RESTORE = {"code": "493817", "ttl_minutes": "10"}
HOSTILE = '<script>alert("x")</script>'


def test_access_email_in_english_has_link_plan_and_order() -> None:
    email = TemplateRenderer().render("access", "en", ACCESS)
    assert email.locale == "en"
    assert email.subject == "Your access is ready: Monthly subscription"
    for body in (email.text, email.html):
        assert "https://t.me/shop_bot?start=TOKEN_abc" in body
        assert "Monthly subscription" in body
        assert "ord_000001" in body
    assert '<a href="https://t.me/shop_bot?start=TOKEN_abc"' in email.html
    assert '<html lang="en">' in email.html


def test_access_email_in_russian() -> None:
    email = TemplateRenderer().render("access", "ru", ACCESS)
    assert email.locale == "ru"
    assert email.subject == "Ваш доступ готов: Ежемесячная подписка"
    assert "Здравствуйте" in email.text
    assert "Активировать доступ в Telegram" in email.html
    assert ACCESS["activation_link"] in email.text


@pytest.mark.parametrize(
    ("locale", "lifetime", "not_you"),
    [
        ("en", "valid for 10 minutes", "If you did not ask for this code"),
        ("ru", "Код действует 10 мин.", "Если вы не запрашивали код"),
    ],
)
def test_restore_email_has_code_lifetime_and_what_to_do(
    locale: str, lifetime: str, not_you: str
) -> None:
    email = TemplateRenderer().render("restore_code", locale, RESTORE)
    for body in (email.text, email.html):
        assert "493817" in body
        assert lifetime in " ".join(body.split())
        assert not_you in body


def test_every_value_is_escaped_in_html_and_kept_verbatim_in_text() -> None:
    context = {"activation_link": f"https://x.example/?a=1&b={HOSTILE}", "plan": HOSTILE}
    email = TemplateRenderer().render("access", "en", {**context, "order_id": HOSTILE})
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert "https://x.example/?a=1&amp;b=&lt;script&gt;" in email.html
    assert HOSTILE in email.text


def test_subject_is_one_line_even_with_a_newline_in_a_value() -> None:
    email = TemplateRenderer().render("access", "en", {**ACCESS, "plan": "a\r\nBcc: x@y.z"})
    assert "\n" not in email.subject
    assert "\r" not in email.subject


def test_unknown_or_missing_locale_falls_back_to_the_default() -> None:
    renderer = TemplateRenderer(default_locale="ru")
    assert renderer.render("restore_code", "de", RESTORE).locale == "ru"
    assert renderer.render("restore_code", None, RESTORE).locale == "ru"
    assert renderer.render("restore_code", "en", RESTORE).locale == "en"


def test_files_in_templates_dir_override_the_built_in_ones_by_name(tmp_path: Path) -> None:
    (tmp_path / "access.en.subject.txt").write_text("Welcome to {{ plan_title }}!")
    (tmp_path / "access.en.html").write_text(
        "<p>{{ order_id }} <a href='{{ activation_link }}'>go</a></p>"
    )
    renderer = TemplateRenderer(templates_dir=tmp_path)
    email = renderer.render("access", "en", {**ACCESS, "order_id": HOSTILE})
    assert email.subject == "Welcome to Monthly subscription!"
    assert email.html.startswith("<p>&lt;script&gt;")  # overrides are escaped too
    assert "thank you for your purchase" in email.text  # the text part is still built in
    assert renderer.render("access", "ru", ACCESS).subject.startswith("Ваш доступ готов")


def test_templates_dir_can_add_a_locale(tmp_path: Path) -> None:
    for part, body in {
        "subject.txt": "Code",
        "txt": "Code {{ code }}",
        "html": "<b>{{ code }}</b>",
    }.items():
        (tmp_path / f"restore_code.de.{part}").write_text(body)
    email = TemplateRenderer(templates_dir=tmp_path).render("restore_code", "de", RESTORE)
    assert (email.locale, email.text) == ("de", "Code 493817")


def test_a_broken_override_fails_at_start_up_without_values(tmp_path: Path) -> None:
    (tmp_path / "restore_code.en.txt").write_text("{{ kode }}")
    with pytest.raises(TemplateError, match="kode") as caught:
        TemplateRenderer(templates_dir=tmp_path)
    assert "000000" not in str(caught.value)


def test_a_missing_templates_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        TemplateRenderer(templates_dir=tmp_path / "nope")


def test_plan_titles_can_be_replaced() -> None:
    renderer = TemplateRenderer(plan_titles={"en": {"sub_monthly": "Pro club, monthly"}})
    assert "Pro club, monthly" in renderer.render("access", "en", ACCESS).subject


def test_the_built_in_templates_are_package_data() -> None:
    folder = files("accessgate.adapters.smtp").joinpath("templates")
    names = {entry.name for entry in folder.iterdir()}
    for template in ("access", "restore_code", "customer_portal"):
        for part in ("subject.txt", "txt", "html"):
            assert f"{template}.{part}" in names  # one template per email and part
    # Their words are in the catalogues, shipped beside the code.
    for locale in ("ru", "en"):
        assert files("accessgate").joinpath(f"locale/{locale}/LC_MESSAGES/accessgate.po").is_file()


def test_one_override_serves_every_language_with_the_catalogues_texts(tmp_path: Path) -> None:
    (tmp_path / "access.txt").write_text(
        '{{ _("Order: {order_id}", order_id=order_id) }} ({{ locale }})\n'
    )
    renderer = TemplateRenderer(templates_dir=tmp_path)
    assert renderer.render("access", "ru", ACCESS).text == "Заказ: ord_000001 (ru)\n"
    assert renderer.render("access", "en", ACCESS).text == "Order: ord_000001 (en)\n"
    # The parts not overridden stay built in, their texts in each language.
    assert "Активировать доступ в Telegram" in renderer.render("access", "ru", ACCESS).html
