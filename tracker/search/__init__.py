"""Search: one box in the header, every kind of record within the reader's scope."""
