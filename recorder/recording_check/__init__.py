"""`stagecast check --against`: finds a scenario's commands in an existing recording (rendered
through a terminal emulator) and evaluates their output checks on what it printed."""
