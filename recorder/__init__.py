"""stagecast recorder: scenarios in, verified asciinema casts out.

One subpackage per concern, imported one way (scenario → shell → run → cast):

- `recorder.scenario`: the scenario format: model, loading, validation, variables, masks;
- `recorder.shell`: the terminal driver: a real bash through pexpect, the typing model;
- `recorder.run`: running a scenario: the runner, expectations, record, rehearse, reports;
- `recorder.cast`: casts: reading, writing, provenance, the leak scan, drift diffs;
- `recorder.kube`: Kubernetes: API waits and state checks, the kind cluster fixture;
- `recorder.recording_check`: checking a scenario against an existing (hand-made) recording.

`recorder.errors` holds the error types every subpackage shares.
"""

__version__ = "0.1.0"
