"""The joint reward and punishment measures list (联合奖惩措施清单) as catalogue data."""
