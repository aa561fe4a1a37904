"""Tracing: from a message id or the text a person saw back to the journey, template and owners."""
