"""stagecast player: consumes verified casts and scenarios.

- `player.play`: cast playback on asciinema's player, with markers as chapters;
- `player.live`: `stagecast live`, the demo run for real on stage with the cast as safety net;
- `player.publish`: upload to an asciinema server and a static gallery site.
"""
