"""The domain model: entities, value objects, state tables and errors; no I/O."""
