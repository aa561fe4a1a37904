"""Lambda entry points: each parses its event, calls one piece of logic and maps the result."""
