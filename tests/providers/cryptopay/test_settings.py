"""The CryptoPay settings group: read from CRYPTOPAY_*, checked at start, the token never shown."""

from __future__ import annotations

import pytest

from accessgate import plugins
from accessgate.adapters.cryptopay.gateway import DEFAULT_API_BASE, CryptoPayGateway
from accessgate.adapters.cryptopay.plugin import CryptoPaySettings
from accessgate.adapters.memory.clock import SettableClock
from accessgate.ports.payment_gateway import Capability
from accessgate.ports.payment_providers import ProviderContext
from tests.providers.cryptopay.fake_cryptopay import TOKEN


def test_the_plug_in_is_found_and_built_with_mainnet_defaults(clock: SettableClock) -> None:
    plugin = plugins.load("cryptopay")
    group = plugins.read_group(
        plugin,
        {"CRYPTOPAY_API_TOKEN": TOKEN, "CRYPTOPAY_ACCEPTED_ASSETS": "USDT, TON,BTC"},
    )
    assert isinstance(group, CryptoPaySettings)
    assert group.api_base == DEFAULT_API_BASE == "https://pay.crypt.bot/api"
    assert group.accepted_assets == ("USDT", "TON", "BTC")
    assert group.webhook_tolerance == 300
    assert TOKEN not in repr(group)
    assert TOKEN not in str(group)
    context = ProviderContext(clock=clock, public_base_url="https://shop.example", webhook_url="-")
    gateway = plugin.build(group, context)
    assert isinstance(gateway, CryptoPayGateway)
    assert gateway.name == "cryptopay"
    assert gateway.capabilities == {Capability.STATUS_POLL}


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, "CRYPTOPAY_API_TOKEN is required"),
        ({"CRYPTOPAY_ACCEPTED_ASSETS": "usdt"}, "CRYPTOPAY_ACCEPTED_ASSETS"),
        ({"CRYPTOPAY_WEBHOOK_TOLERANCE": "0"}, "CRYPTOPAY_WEBHOOK_TOLERANCE"),
        ({"CRYPTOPAY_WEBHOOK_TOLERANCE": "soon"}, "CRYPTOPAY_WEBHOOK_TOLERANCE"),
        ({"CRYPTOPAY_INVOICE_EXPIRES_IN": "2678401"}, "CRYPTOPAY_INVOICE_EXPIRES_IN"),
        ({"CRYPTOPAY_INVOICE_URL": "pay_url"}, "CRYPTOPAY_INVOICE_URL"),
        ({"CRYPTOPAY_API_BASE": "pay.crypt.bot/api"}, "CRYPTOPAY_API_BASE"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_its_variable(
    environ: dict[str, str], variable: str
) -> None:
    plugin = plugins.load("cryptopay")
    if "CRYPTOPAY_API_TOKEN is required" not in variable:
        environ = {"CRYPTOPAY_API_TOKEN": TOKEN, **environ}
    with pytest.raises(plugins.PluginError) as error:
        plugins.read_group(plugin, environ)
    assert variable in str(error.value)
    assert TOKEN not in str(error.value)
