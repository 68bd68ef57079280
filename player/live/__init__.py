"""`stagecast live`: type-along on stage, with the verified cast as the safety net."""
