"""The timeline: everything that happened to a contact, newest first."""
