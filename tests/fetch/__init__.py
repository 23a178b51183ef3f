"""``envpool assets fetch`` against a local index: the happy paths, then the faults."""
