"""Campaigns: a journey run over a segment's audience, taken once into a snapshot."""
