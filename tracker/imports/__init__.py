"""Imports: plan documents into drafts and plans, the task list (任务分解表) round trip, cascading plans."""
