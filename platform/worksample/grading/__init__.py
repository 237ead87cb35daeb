"""Grading: run a submission in a grading pod, judge it with the hidden suite, keep one report per submission."""
