# The two commands of the Quickstart. Both set up what is missing first.
.PHONY: up test setup

setup:
	@scripts/setup.sh

up: setup
	.venv/bin/worksample up

test: setup
	.venv/bin/pytest
