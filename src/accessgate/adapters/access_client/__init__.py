"""AccessClient adapters: in-process (the use cases) and HTTP (``/api/bot/*``)."""
