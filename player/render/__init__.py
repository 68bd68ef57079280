"""Pictures of casts: `stagecast render`."""
