"""The journey compiler: a `baton.journeys.models.Journey` becomes one Standard state machine."""
