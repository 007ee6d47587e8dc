"""Outbound webhooks: the events of the outbox, signed and sent to endpoints an administrator registers."""
