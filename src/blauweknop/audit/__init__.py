"""Access records: every read of a citizen's data, visible to that citizen."""
