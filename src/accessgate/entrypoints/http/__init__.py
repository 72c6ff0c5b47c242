"""The HTTP entrypoint: a Litestar app over the use cases of the container."""
