"""系统管理: users and departments (calendar and alert settings live in the system area)."""
