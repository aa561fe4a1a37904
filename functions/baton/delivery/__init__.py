"""Sending: channel adapters behind one interface, the send gate, and the dispatcher that
records every attempt on the timeline."""
