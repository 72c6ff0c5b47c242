"""Ports: the small interfaces the domain needs from the outside world.

Each port is a ``typing.Protocol``; adapters implement them structurally. Ports
import only the domain model.
"""
