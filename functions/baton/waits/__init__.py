"""Journeys parked on `wait: {event, timeout}` (issue 4): the waiters table and their resumption."""
