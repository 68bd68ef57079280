"""Casts: the one model (`model.Cast`: header, events, markers, segments), the one reader
(`reader.load_cast`), writing a verified cast atomically (`writer.CastRecording`), provenance
(`provenance.Provenance`), the leak scan, and drift diffs between two casts."""
