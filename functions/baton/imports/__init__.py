"""Bulk contact import: a CSV or JSON-lines file of contacts (with their consent and its proof)
validated whole, then written in bulk."""
