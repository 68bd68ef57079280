"""pytest plugin: `pytest scenarios/` runs each scenario file as a test (filled in below)."""
