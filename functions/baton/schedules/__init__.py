"""Schedule triggers (issue 4): EventBridge Scheduler expressions, and the run of a segment."""
