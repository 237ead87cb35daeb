# The two commands of the Quickstart. Both set up what is missing first.
.PHONY: up test setup

# The tests that run a second time on a real PostgreSQL (tests/pg_server.py): the database
# layer (migrations up and down, concurrent migrations), reviews, the attempt tests that do not
# exercise Docker faults, and one grading through a real worker. The rest of the attempt and
# pipeline tests are about Docker, Redis and time, not the database (issue 17).
POSTGRES_TESTS = tests/integration/platform/test_db.py $(wildcard tests/integration/review) \
	tests/integration/attempts/test_attempt_flow.py tests/integration/attempts/test_attempt_host.py \
	tests/integration/attempts/test_deadline_job.py tests/integration/attempts/test_clock.py \
	tests/integration/grading/test_pipeline.py::test_a_queued_submission_is_graded_once_by_a_worker

setup:
	@scripts/setup.sh

up: setup
	.venv/bin/worksample up

# The suite runs in PYTEST_WORKERS processes (pytest-xdist), one test file per process at a
# time, so a file's module fixtures (a graded run shared by its checks) are made once. Most tests
# wait on containers, kernels and the mock's latency rather than on a core, so three processes
# on two cores pay. Each process's tests use their own data dir, Redis and pod labels.
# PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= 3

test: setup
	.venv/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile
	.venv/bin/pytest --db postgres $(POSTGRES_TESTS)
