"""The grading SDK installed into grader images (import name `worksample_grader`).

Modules: `llmlog` reads and judges the mock LLM's call log; the pytest plugin,
fixtures and report writer live beside it. Pure standard library plus pytest,
so it runs in the grader image with nothing else.
"""
