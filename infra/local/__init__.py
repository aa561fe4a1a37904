"""Local mode: the synthesized template deployed into moto in-process, its Lambda handlers run
in-process, its API served on localhost (ARCHITECTURE.md, "Local mode")."""

from infra.local.stack import LocalStack, StartupTimes

__all__ = ["LocalStack", "StartupTimes"]
