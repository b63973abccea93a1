"""Studies of the method itself: simulation-based calibration, DAG-test calibration and the measurement-error
simulation. They fit through the one fitting path; production stages never import them."""
