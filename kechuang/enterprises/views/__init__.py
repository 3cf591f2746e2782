"""Enterprise pages, split by topic: the register (list/export/profile), records, settings."""
