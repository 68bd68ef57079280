"""The scenario format: the YAML model, its loading and validation, named keys, variables,
masks, the required programs and environment, and the default scenario choice."""
