"""`stagecast import`: a hand-made recording becomes a draft scenario.

The recording is rendered and its commands found by `recorder.recording_check` (the same
terminal emulator and command extractor `stagecast check` uses), the shells they were typed
in are told apart by their prompts (`prompts`), each command is read for what kind of
program it started (`programs`), the commands become steps in one shell session, nested
shells entered and left (`session`), each step gets expectations drafted from what it
printed (`expectations`), and the draft is written as commented YAML (`yaml_writer`);
`draft` ties them together.
"""
