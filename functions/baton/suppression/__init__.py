"""Suppression: addresses Baton must not message, kept only as salted hashes (survive erasure)."""
