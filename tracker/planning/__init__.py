"""Planning: the planner decomposes a plan into chapters, key tasks, measures and annual tasks,
with departments, deadlines, milestones and indicators (项目化、清单化、责任化)."""
