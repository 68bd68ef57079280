"""Casts: reading (asciinema's reader), writing a verified cast atomically, provenance, the
leak scan, and drift diffs between two casts."""
