"""The domain: the model (innermost ring) and the use cases (one ring out)."""
