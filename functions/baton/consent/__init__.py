"""The consent ledger: who agreed to what, on which channel, with proof (R-GDPR-2)."""
