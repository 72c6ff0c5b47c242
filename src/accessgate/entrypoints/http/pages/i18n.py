"""The words of the pages in ru and en, and how a page picks its language."""

from __future__ import annotations

from typing import Any

from litestar import Request

from accessgate.domain.model.catalogue import Period, PeriodUnit
from accessgate.domain.model.values import Locale, Mode

TEXTS: dict[Locale, dict[str, str]] = {
    Locale.EN: {
        "title_pay": "Get access",
        "intro_pay": "Enter your email and choose a plan. The activation link arrives on this site and by email.",
        "email": "Email",
        "plan": "Plan",
        "per_month": "per month",
        "per_months": "per {n} months",
        "per_days": "per {n} days",
        "for_months": "for {n} months",
        "for_month": "for a month",
        "for_days": "for {n} days",
        "continue": "Continue to payment",
        "title_checkout": "Sandbox checkout",
        "sandbox_note": "This is the sandbox payment provider: no money moves. Pay or Decline sends a signed webhook to this service, like a real provider.",
        "order": "Order",
        "amount": "Amount",
        "pay": "Pay",
        "decline": "Decline",
        "already_paid": "This order is already settled.",
        "title_success": "Payment",
        "pending": "Payment pending. This page refreshes by itself.",
        "pending_stopped": "The payment has not arrived yet. If you did not finish paying, go back to payment; if you did, check again in a minute.",
        "check_again": "Check again",
        "paid": "Payment received. Your access is ready.",
        "failed": "The payment did not go through.",
        "refunded": "This payment was refunded.",
        "try_again": "Try again",
        "open_telegram": "Open in Telegram",
        "activate_here": "Activate access",
        "link_note": "The link works once: keep it to yourself.",
        "title_activate": "Activate access",
        "activate_intro": "Normally the bot does this: the link opens the bot with /start, and the bot activates your access. Without a configured bot, enter your Telegram user id here.",
        "telegram_user_id": "Telegram user id",
        "activate": "Activate",
        "activated": "Access is active for this Telegram account.",
        "missing_token": "The link has no activation token.",
        "title_portal": "Sandbox customer portal",
        "portal_note": "The sandbox has no subscriptions to manage. With a real provider this page is its customer portal.",
        "title_error": "Something went wrong",
        "not_found": "Nothing was found for this link.",
        "forbidden": "This form was sent from another site and was refused.",
        "back": "Back to payment",
        "invalid_email": "Please enter a valid email address.",
        "invalid_plan": "Please choose one of the plans.",
        "unavailable": "Payments are unavailable right now. Please try again in a minute.",
        "token_invalid": "This activation link is not valid (it may have been replaced by a newer one).",
        "token_used": "This activation link was already used by another Telegram account.",
        "token_expired": "This activation link has expired. Restore access by email.",
        "invalid_user_id": "The Telegram user id is a positive number.",
    },
    Locale.RU: {
        "title_pay": "Получить доступ",
        "intro_pay": "Укажите email и выберите тариф. Ссылка для активации появится на этой странице и придёт на почту.",
        "email": "Email",
        "plan": "Тариф",
        "per_month": "в месяц",
        "per_months": "за {n} {months}",
        "per_days": "за {n} {days}",
        "for_months": "на {n} {months}",
        "for_month": "на месяц",
        "for_days": "на {n} {days}",
        "continue": "Перейти к оплате",
        "title_checkout": "Тестовая оплата",
        "sandbox_note": "Это тестовый платёжный провайдер: деньги не списываются. «Оплатить» и «Отклонить» отправляют этому сервису подписанный вебхук, как настоящий провайдер.",
        "order": "Заказ",
        "amount": "Сумма",
        "pay": "Оплатить",
        "decline": "Отклонить",
        "already_paid": "Этот заказ уже обработан.",
        "title_success": "Оплата",
        "pending": "Ожидаем оплату. Страница обновится сама.",
        "pending_stopped": "Оплата пока не поступила. Если вы не завершили оплату, вернитесь к ней; если завершили — проверьте ещё раз через минуту.",
        "check_again": "Проверить снова",
        "paid": "Оплата получена. Доступ готов.",
        "failed": "Оплата не прошла.",
        "refunded": "Этот платёж возвращён.",
        "try_again": "Попробовать снова",
        "open_telegram": "Открыть в Telegram",
        "activate_here": "Активировать доступ",
        "link_note": "Ссылка одноразовая: никому её не передавайте.",
        "title_activate": "Активация доступа",
        "activate_intro": "Обычно это делает бот: ссылка открывает бота с командой /start, и он активирует доступ. Если бот не настроен, введите здесь свой Telegram user id.",
        "telegram_user_id": "Telegram user id",
        "activate": "Активировать",
        "activated": "Доступ для этого аккаунта Telegram активен.",
        "missing_token": "В ссылке нет токена активации.",
        "title_portal": "Тестовый кабинет покупателя",
        "portal_note": "В песочнице нет подписок для управления. С настоящим провайдером здесь его кабинет покупателя.",
        "title_error": "Что-то пошло не так",
        "not_found": "По этой ссылке ничего не найдено.",
        "forbidden": "Форма отправлена с другого сайта и отклонена.",
        "back": "Вернуться к оплате",
        "invalid_email": "Укажите корректный email.",
        "invalid_plan": "Выберите один из тарифов.",
        "unavailable": "Оплата сейчас недоступна. Попробуйте через минуту.",
        "token_invalid": "Ссылка для активации недействительна (возможно, её заменила новая).",
        "token_used": "Эта ссылка уже использована другим аккаунтом Telegram.",
        "token_expired": "Срок действия ссылки истёк. Восстановите доступ по email.",
        "invalid_user_id": "Telegram user id — положительное число.",
    },
}


_RU_FORMS = {"days": ("день", "дня", "дней"), "months": ("месяц", "месяца", "месяцев")}
# 30 days is what seed 002 sells as a month ("per month" on the pay page).
MONTH_OF_DAYS = 30


def _ru_plural(count: int, unit: str) -> str:
    one, few, many = _RU_FORMS[unit]
    if count % 10 == 1 and count % 100 != 11:
        return one
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return few
    return many


def period_text(period: Period | None, mode: Mode, locale: Locale) -> str:
    """How long a price buys, after the price: ``per month``, ``per 90 days``, ``for 3 months``.

    Empty for access without end. A month, or 30 days, reads as "per month" for
    a subscription.
    """
    if period is None:
        return ""
    texts = TEXTS[locale]
    months = period.unit is PeriodUnit.MONTHS
    prefix = "per" if mode is Mode.SUBSCRIPTION else "for"
    a_month = prefix == "per" and period == Period.days(MONTH_OF_DAYS)
    if (period.count == 1 and months) or a_month:
        return texts[f"{prefix}_month"]
    key = f"{prefix}_{period.unit.value}"
    return texts[key].format(
        n=period.count,
        days=_ru_plural(period.count, "days"),
        months=_ru_plural(period.count, "months"),
    )


def _parse(raw: str | None) -> Locale | None:
    if not raw:
        return None
    try:
        return Locale(raw.strip().lower()[:2])
    except ValueError:
        return None


def from_accept_language(header: str | None) -> Locale | None:
    """The first of ru/en in an ``Accept-Language`` header, by quality then order."""
    if not header:
        return None
    ranked: list[tuple[float, int, Locale]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = _parse(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, index, locale))
    return min(ranked)[2] if ranked else None


def page_locale(
    request: Request[Any, Any, Any], default: Locale, order_locale: Locale | None = None
) -> Locale:
    """``?lang=``, then the order's locale, then ``Accept-Language``, then ``default``."""
    return (
        _parse(request.query_params.get("lang"))
        or order_locale
        or from_accept_language(request.headers.get("accept-language"))
        or default
    )
