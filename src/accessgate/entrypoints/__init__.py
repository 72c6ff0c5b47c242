"""Entry points: HTTP (Litestar), bot (aiogram) and the command line."""
