"""Use cases: one module each, ports in the constructor, one ``execute``."""
