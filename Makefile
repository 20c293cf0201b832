# Developer entry points for the im_livechat_ticket addon; the work is done by tools/dev.sh.
# Settings come from the environment or the command line, e.g.
#   make test TEST_TAGS=/im_livechat_ticket:TestTicketModel
#   make run IMLT_PORT=8080
# See README.md for IMLT_HOME, IMLT_DB, IMLT_PORT, IMLT_LISTEN, ODOO_SRC.

DEV := bash $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/tools/dev.sh

# Command-line settings reach tools/dev.sh through the environment.
export TEST_TAGS IMLT_HOME IMLT_DB IMLT_PORT IMLT_LISTEN ODOO_SRC LINT FIX

.DEFAULT_GOAL := help
.PHONY: help run test update shell dropdb clean bench faults bench-queue lint format

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(lastword $(MAKEFILE_LIST)) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 20

run: ## Install what is missing, create the demo db once, serve it on http://localhost:8069
	@$(DEV) run

test: ## Lint, then run the addon's tests in a throwaway db (TEST_TAGS=... to select, LINT=0)
	@$(DEV) test

lint: ## Check the tracked files: ruff, pylint-odoo, prettier, eslint (pre-commit)
	@$(DEV) lint

format: ## Apply the formatters and autofixes (ruff, prettier, eslint --fix), then lint
	@$(DEV) format

update: ## Upgrade the addon (-u) in the demo db, then 'make run'
	@$(DEV) update

shell: ## Odoo shell on the demo db
	@$(DEV) shell

dropdb: ## Drop the demo db and its filestore
	@$(DEV) dropdb

clean: ## Remove generated files in the cache dir (keeps venv, Odoo, demo db)
	@$(DEV) clean

# Benchmark settings (bench/README.md), e.g. make bench BENCH_SOCKETS=2000 BENCH_RATE=20,40,80
export BENCH_SOCKETS BENCH_RATE BENCH_SECONDS BENCH_IDLE_MESSAGES BENCH_TICKETS BENCH_CUSTOMERS \
    BENCH_AGENTS BENCH_IDLE_USERS BENCH_TICKET_SECONDS BENCH_CONCURRENCY BENCH_QUEUE_QUERIES \
    BENCH_WORKERS BENCH_PHASES BENCH_DB BENCH_KEEP BENCH_SCALEOUT_MESSAGES BENCH_SCALEOUT_WORKERS \
    BENCH_STORM_TIMEOUT BENCH_STORM_MESSAGES BENCH_CALIBRATION_REQUESTS BENCH_CROSSCHECK_MESSAGES

bench: ## Measure latency and scale, ours vs stock, in a throwaway db (see bench/README.md)
	@$(DEV) bench

# Fault-injection settings (bench/README.md, "Fault injection"), e.g. make faults FAULTS_CUSTOMERS=20
export FAULTS_CUSTOMERS FAULTS_AGENTS FAULTS_WORKERS FAULTS_INTERVAL FAULTS_STEADY FAULTS_PAUSE \
    FAULTS_DRAIN FAULTS_DROP FAULTS_FAULTS FAULTS_RECOVERY_LIMIT

faults: ## Drop sockets, restart Odoo and PostgreSQL while chatting; count lost/duplicated messages
	@$(DEV) faults

# Queue-at-scale settings (bench/README.md, "Queue at scale"), e.g. make bench-queue QUEUE_SIZES=100000
export QUEUE_SIZES QUEUE_QUERIES QUEUE_AGENTS QUEUE_TEAMS QUEUE_CUSTOMERS QUEUE_COMPANIES \
    QUEUE_WORKERS QUEUE_COMPARE QUEUE_EXPLAIN QUEUE_DB QUEUE_KEEP

bench-queue: ## Time the agent queue and /my/tickets at 100,000 and 1,000,000 tickets (SQL-generated)
	@$(DEV) bench-queue
