"""Access targets are plug-ins: one package outside accessgate adds one, with no change to accessgate.

``tests/plugins/acme_target`` is its own distribution (installed by ``nox -s
tests``); it registers ``acme_target`` in the entry-point group
``accessgate.access_targets``. Listing it in ``ACCESS_TARGETS`` is all it
takes: its settings group (``ACME_TARGET_*``), its own outbox channel
(``target:acme_target``), the access events.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accessgate import plugins
from accessgate.adapters.memory.access_target import RecordingAccessTarget
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.config import ConfigError, Settings, load_settings
from accessgate.container import create_container, create_memory_container
from accessgate.domain.model.outbox import Channel, OutboxStatus, target_channel
from accessgate.domain.model.payment_event import EventOutcome
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.start_checkout import StartCheckoutCommand
from accessgate.ports.access_target import AccessChangeType
from accessgate.support.redaction import MASK
from tests.services import services_required

TOKEN = "acme-panel-s3cret-token"
ENV = {
    "ACCESSGATE_ENV": "test",
    "DATABASE_URL": "memory://",
    "ACCESS_TARGETS": "acme_target",
    "ACME_TARGET_PANEL_TOKEN": TOKEN,
}


@pytest.fixture(autouse=True)
def _installed() -> None:
    if "acme_target" not in plugins.available(plugins.TARGET_GROUP):
        message = (
            "the acme_target plug-in is not installed: pip install -e tests/plugins/acme_target"
        )
        if services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


async def test_a_purchase_reaches_an_outside_target_once() -> None:
    settings = load_settings(ENV)
    assert settings.access_targets == ("acme_target",)
    container = create_container(settings)
    panel: Any = container.targets()["acme_target"]
    assert type(panel).__module__ == "acme_target"  # built by its own package
    assert panel.group == "members"
    assert panel.channel == "target:acme_target"

    started = await container.start_checkout().execute(
        StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="buyer@example.com")
    )
    sandbox: Any = container.gateway()
    delivery = sandbox.signed_event(
        outcome="pay",
        session_id=started.session_id,
        order_id=started.order_id,
        amount=1900,
        currency="USD",
        event_id="evt_acme_target_1",
    )
    events = sandbox.verify_delivery(delivery.body, delivery.headers)
    handle = container.handle_payment_events()
    assert await handle.execute(events) == [EventOutcome.FULFILLED]
    assert await handle.execute(events) == [EventOutcome.DUPLICATE]  # delivered again

    panel.fail_next = 1  # the panel is busy once: the outbox retries
    deliver = container.deliver_outbox()
    first = await deliver.execute()
    assert first.retrying == 1
    assert not panel.applied
    store = container.uow().store
    store_messages = [m for m in store.tables.outbox.values() if m.channel != Channel.EMAIL]
    [message] = store_messages
    assert message.channel == "target:acme_target"
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 1
    store.tables.outbox[message.id] = message.postponed("due now", message.created_at)
    await deliver.execute()
    await deliver.execute()

    [change] = panel.applied.values()
    assert change.type is AccessChangeType.GRANTED
    assert change.order_id == started.order_id
    assert panel.members == {started.order_id}
    assert store.tables.outbox[message.id].status is OutboxStatus.DELIVERED


def test_the_target_settings_group_is_read_with_its_prefix_and_masked() -> None:
    settings = load_settings(ENV | {"ACME_TARGET_GROUP": "vip"})
    group = settings.target_settings["acme_target"]
    assert (group.panel_token, group.group) == (TOKEN, "vip")
    assert TOKEN not in repr(settings)
    assert MASK in repr(group)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ACCESS_TARGETS": "acme_target"},
            "ACME_TARGET_PANEL_TOKEN is required when ACCESS_TARGETS lists acme_target",
        ),
        (
            {"ACCESS_TARGETS": "acme_target", "ACME_TARGET_PANEL_TOKEN": "short"},
            "ACME_TARGET_PANEL_TOKEN must be at least 8 characters",
        ),
        ({"ACCESS_TARGETS": "nope"}, "ACCESS_TARGETS: unknown access target 'nope'"),
        ({"ACCESS_TARGETS": "Bad-Name"}, "is not an access target name"),
        ({"ACCESS_TARGETS": "acme_target,acme_target"}, "names a target twice"),
        (
            {"ACCESS_WEBHOOK_URL": "https://shop.example/hook"},
            "ACCESS_WEBHOOK_SECRET is required when ACCESS_TARGETS lists access_webhook",
        ),
        (
            {"ACCESS_WEBHOOK_URL": "ftp://x", "ACCESS_WEBHOOK_SECRET": "whsec_" + "QUJD" * 8},
            "ACCESS_WEBHOOK_URL must start with http:// or https://",
        ),
        (
            {"ACCESS_WEBHOOK_URL": "https://x", "ACCESS_WEBHOOK_SECRET": "not-whsec"},
            "ACCESS_WEBHOOK_SECRET: the secret must start with whsec_",
        ),
    ],
)
def test_a_broken_target_stops_the_start_with_one_line(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings({"ACCESSGATE_ENV": "test", **environ})
    assert "\n" not in str(caught.value)
    assert "not-whsec" not in str(caught.value)


def test_access_webhook_url_alone_still_turns_the_webhook_on() -> None:
    secret = "whsec_" + "QUJD" * 8
    hook = {"ACCESS_WEBHOOK_URL": "https://shop.example/hook", "ACCESS_WEBHOOK_SECRET": secret}
    assert load_settings(hook).access_targets == ("access_webhook",)
    assert load_settings({}).access_targets == ()
    # An explicit list wins: the webhook is off unless listed.
    assert load_settings(ENV | hook).access_targets == ("acme_target",)
    both = load_settings(ENV | hook | {"ACCESS_TARGETS": "access_webhook,acme_target"})
    assert set(create_container(both).targets()) == {"access_webhook", "acme_target"}
    assert both.target_settings["access_webhook"].url == "https://shop.example/hook"


async def test_a_change_for_a_target_not_configured_here_waits_pending() -> None:
    clock = SettableClock()
    gateway = MemoryPaymentGateway(secret=b"webhook-secret", clock=clock)
    panel = RecordingAccessTarget("panel")
    settings = Settings.for_tests(accessgate_env="test")
    core = create_memory_container(settings, clock=clock, gateway=gateway, targets={"panel": panel})
    started = await core.start_checkout().execute(
        StartCheckoutCommand(mode="one_time", plan="one_time_basic", email="b@example.com")
    )
    delivery = gateway.webhook(gateway.completion(started.session_id))
    events = gateway.verify_delivery(delivery.body, delivery.headers)
    assert await core.handle_payment_events().execute(events) == [EventOutcome.FULFILLED]
    store = core.uow().store
    [message] = [m for m in store.tables.outbox.values() if m.channel == target_channel("panel")]

    # A worker started without the target (taken out of ACCESS_TARGETS, or an older one).
    elsewhere = DeliverOutbox(
        uow=core.uow(),
        clock=clock,
        tokens=core.tokens(),
        codec=core.codec(),
        links=core.links(),
        mailer=core.mailer(),
        sinks={},
        retry=core.retry(),
        credentials=core.credentials(),
        targets={},
    )
    report = await elsewhere.execute()
    assert report.postponed == 1
    assert report.failed == 0
    waiting = store.tables.outbox[message.id]
    assert waiting.status is OutboxStatus.PENDING
    assert waiting.attempts == 0
    assert waiting.last_error == "access target 'panel' is not configured here; kept pending"
    assert waiting.next_attempt_at == clock.now() + timedelta(minutes=5)
    assert (await elsewhere.execute()).claimed == 0  # not taken again before then
    assert not panel.applied

    clock.advance(timedelta(minutes=5))
    await core.deliver_outbox().execute()  # a worker with the target delivers it
    assert store.tables.outbox[message.id].status is OutboxStatus.DELIVERED
    assert [c.type for c in panel.applied] == [AccessChangeType.GRANTED]


def test_target_channels_are_strings_named_after_the_target() -> None:
    assert target_channel("access_webhook") == "target:access_webhook"
    assert len(target_channel("a" * 64)) <= 80
    for bad in ("", "A", "a" * 65, "x-y", "1a"):
        with pytest.raises(ValueError, match="not an access target name"):
            target_channel(bad)
    assert {str(c) for c in Channel} == {"email", "mobislon", "meta"}
