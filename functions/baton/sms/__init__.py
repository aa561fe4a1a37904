"""SMS specifics: inbound keyword classification and segment counting."""
