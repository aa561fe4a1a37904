"""Local mode: the synthesized template deployed into moto in-process, its Lambda handlers and
state machines run in-process on a virtual clock, its API served on localhost (ARCHITECTURE.md,
"Local mode")."""

from infra.local.clock import VirtualClock
from infra.local.stack import LocalStack, StartupTimes

__all__ = ["LocalStack", "StartupTimes", "VirtualClock"]
