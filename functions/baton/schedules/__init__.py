"""Schedule triggers: EventBridge Scheduler expressions, and the run of a segment."""
