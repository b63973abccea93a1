"""Models: plain-data specs, likelihood families, binding a panel to arrays, the PyMC builders."""
