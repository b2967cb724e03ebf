# The two commands a newcomer needs; see README.md.
.PHONY: run test stop

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

stop:
	bash scripts/stop-services.sh
