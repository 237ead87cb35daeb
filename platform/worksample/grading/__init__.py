"""Grading: run a submission in a grading pod, judge it with the hidden suite, keep one report per submission.

Modules, in the order a grading goes through them:

- `grade`     the job body `grade_submission(id)` (RQ workers, and inline for the CLI) and `reconcile()`;
- `submissions` submission states in the database: claim (fencing token = `tries`), heartbeat, finish,
                release, stale detection, re-grade, report versions;
- `runner`    one grading run: pod (kernel + grading mock + hold-out data + waiting grader), copy-in,
              notebook execution, copy-out, the suite's result;
- `notebook`  host-side cell-by-cell execution over jupyter-client `ipc` into a `RunRecord`;
- `suite`     which folders make a task's hidden suite and the locked-down pytest command;
- `report`    the DESIGN §9 report, recomputed from the checks; versions of task, suite and grader;
- `render`    the report page's SVG call timeline and the escaped notebook document;
- `local`     `worksample grade` and `worksample task test` on top of the same job.

`passed` means score ≥ `grading.pass_threshold` percent of the maximum score.
"""
