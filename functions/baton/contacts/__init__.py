"""Contacts: who Baton talks to. Profiles normalised on the way in (E.164, lower-cased email)."""
