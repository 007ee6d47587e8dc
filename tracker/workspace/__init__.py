"""我的工作台: the department's tasks and milestones, overdue first."""
