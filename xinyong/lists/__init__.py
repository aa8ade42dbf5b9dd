"""The lists (名单) lifecycle: prior notice, entry, change, objection, repair, exit, expiry."""
