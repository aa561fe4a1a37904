"""Public sign-up flows: form subscription, double opt-in, preferences and one-click unsubscribe."""
