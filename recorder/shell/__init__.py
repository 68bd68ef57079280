"""The terminal driver: a real bash through pexpect, the human typing model, output cleaning
and redaction, and the audience's screen."""
