"""In-memory adapters: a supported way to embed accessgate and to test it.

They keep observable state (``committed``, ``sent``, ``delivered``) and honour
the same contracts as the durable adapters.
"""
