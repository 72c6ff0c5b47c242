"""accessgate: sell paid access through Telegram.

The package is a hexagon: ``domain`` (model and use cases), ``ports`` (the
interfaces the domain needs), ``adapters`` (their implementations),
``entrypoints`` (HTTP, bot, CLI) and ``container`` (the composition root).
"""

__version__ = "0.1.0"
