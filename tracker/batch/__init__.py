"""Batch work: one action on many records, with a confirmation page and a result per row."""
