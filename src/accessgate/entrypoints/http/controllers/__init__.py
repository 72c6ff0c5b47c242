"""One Litestar controller per resource; handlers only translate and call use cases."""
