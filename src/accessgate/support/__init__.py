"""Small helpers shared by several layers (no framework, no I/O)."""
