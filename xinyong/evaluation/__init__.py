"""Credit evaluation (信用评价): models as data, set-based runs, explanations, graded
supervision and monitoring (issue 15)."""
