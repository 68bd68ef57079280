"""Running a scenario: the step runner, expectations on each step's output, results, and the
`record` and `rehearse` flows with their progress display, reports and statistics."""
