"""Public queries of 信用濮阳 (the portal and the JSON API): a subject's profile and records,
the 双公示 lists, the red and black lists. Everything shown goes through the disclosure engine."""
