"""The `stagecast` console command: a thin layer over `recorder` and `player`."""
