"""Do-not-contact lists an operator loads (R-BR-1 "Não Me Perturbe"): salted hashes per generation."""
