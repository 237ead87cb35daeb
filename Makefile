# The two commands of the Quickstart. Both set up what is missing first.
.PHONY: up test setup

# The tests that run a second time on a real PostgreSQL (tests/pg_server.py):
# the database layer, attempts, the grading pipeline and reviews.
POSTGRES_TESTS = tests/integration/platform/test_db.py tests/integration/attempts \
                 tests/integration/grading/test_pipeline.py $(wildcard tests/integration/review)

setup:
	@scripts/setup.sh

up: setup
	.venv/bin/worksample up

test: setup
	.venv/bin/pytest
	.venv/bin/pytest --db postgres $(POSTGRES_TESTS)
