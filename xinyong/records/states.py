"""Record states (记录状态). A record is never deleted; these say whether the public sees it."""

PUBLISHED = "公示中"
OBJECTED = "异议中"  # an objection is being handled (set by the objection workflow)
REPAIRED = "已修复"  # credit repair granted: publicity ended early
EXPIRED = "期满停止公示"  # the publicity period is over
WITHDRAWN = "已撤销"  # the department withdrew it (decision revoked or changed)

ALL_STATES = (PUBLISHED, OBJECTED, REPAIRED, EXPIRED, WITHDRAWN)
