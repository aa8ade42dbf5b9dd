"""The check (联合奖惩核查) a department runs before acting, and its feedback (反馈)."""
