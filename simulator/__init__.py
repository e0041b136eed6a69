"""An AWS stand-in for tests: moto's server with ECS's real rules layered on top."""

from simulator.rules import Rules
from simulator.server import Call, Simulator

__all__ = ["Call", "Rules", "Simulator"]
