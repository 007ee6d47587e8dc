"""Tasks: the task tree, milestones and progress reports."""
