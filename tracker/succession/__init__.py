"""规划衔接: a locked final evaluation (总结评估) starts the next period's plan as a draft (起草), carrying the
chapters, unfinished tasks and indicators the planner chooses, with the evaluation's 存在问题 as background."""
