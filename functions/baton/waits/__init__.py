"""Journeys parked on `wait: {event, timeout}`: the waiters table and their resumption."""
