"""Figures: per-journey and per-queue counts, kept as timeline events are recorded."""
