"""The grading SDK installed into grader images (import name `worksample_grader`).

Modules: `llmlog` reads and judges the mock LLM's call log; `logical` is the
logical-request rule (the mock image ships it too); `runfolder` reads the run
folder as data; `deliverables` and `calibration` are the readers and the cost
check the task suites share; `scoring` the curves; `tasktools` builds task
notebooks and loads modules by path; the pytest plugin, fixtures and report
writer live beside them. Pure standard library plus pytest, so it runs in the
grader image with nothing else.
"""
