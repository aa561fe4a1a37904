"""Baton: omnichannel customer messaging with consent built in (the code that runs in Lambda)."""
