"""Journeys as code: the journey, template and segment DSL (contract) and its validation."""
