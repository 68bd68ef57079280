"""stagecast player: plays verified casts and drives live type-along (issue 5)."""
