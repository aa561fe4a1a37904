"""Triggers: `POST /v1/events` starts the journeys an event names and ends those it exits."""
