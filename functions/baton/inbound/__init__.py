"""Inbound SMS: the replies people send, keywords first (R-CTIA-1/2/4, R-TCPA-3/5)."""
