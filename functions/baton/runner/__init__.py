"""The journey tasks behind `baton.handlers.journey_step`: send (gate, render, deliver with
failover), branch, finish and fail, each called by a journey's state machine."""
