"""Core: errors, registries, hashes and library versions, atomic writes (imports nothing of tipcausal)."""
