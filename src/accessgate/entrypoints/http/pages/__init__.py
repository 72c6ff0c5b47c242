"""Server-rendered pages: ``/`` (to ``/pay``), ``/pay``, ``/pay/success``, the sandbox checkout, ``/activate``.

Templates are package data (``templates/``), rendered by Litestar's Jinja
engine with autoescaping; pages speak ru and en (``?lang=``, the order's
locale, ``Accept-Language``). None of them is in the OpenAPI schema.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from accessgate.entrypoints.http.pages.activate import activate_form, activate_submit
from accessgate.entrypoints.http.pages.pay import home, pay_form, pay_submit, pay_success
from accessgate.entrypoints.http.pages.sandbox import checkout_choice, checkout_page, portal_page


def page_route_handlers() -> list[ControllerRouterHandler]:
    """The route handlers of the pages, included by ``create_app``."""
    return [
        home,
        pay_form,
        pay_submit,
        pay_success,
        checkout_page,
        checkout_choice,
        portal_page,
        activate_form,
        activate_submit,
    ]
