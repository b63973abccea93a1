"""Causal graphs: declarative DAG files, adjustment sets, identification (DoWhy + guard-rails), implied
independences and drawing."""
