"""The CryptoPay (Crypto Bot, ``pay.crypt.bot``) adapter of the PaymentGateway port, over httpx.

The gateway is imported only when the plug-in is built (``.plugin``), so an
installed but unlisted CryptoPay costs nothing.
"""
