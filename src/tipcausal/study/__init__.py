"""Studies: the typed study file, its panel, the runner that composes the stages, results and summary.json."""
