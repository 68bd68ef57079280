from stagecast.cli import entry

entry()
