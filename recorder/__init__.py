"""stagecast recorder: scenarios in, verified asciinema casts out."""

__version__ = "0.1.0"
