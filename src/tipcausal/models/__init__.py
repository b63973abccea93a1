"""Models: plain-data specs, likelihood helpers and backend builders."""
