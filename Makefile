# Developer entry points for the im_livechat_ticket addon; the work is done by tools/dev.sh.
# Settings come from the environment or the command line, e.g.
#   make test TEST_TAGS=/im_livechat_ticket:TestTicketModel
#   make run IMLT_PORT=8080
# See README.md for IMLT_HOME, IMLT_DB, IMLT_PORT, IMLT_LISTEN, ODOO_SRC.

DEV := bash $(abspath $(dir $(lastword $(MAKEFILE_LIST))))/tools/dev.sh

# Command-line settings reach tools/dev.sh through the environment.
export TEST_TAGS IMLT_HOME IMLT_DB IMLT_PORT IMLT_LISTEN ODOO_SRC

.DEFAULT_GOAL := help
.PHONY: help run test update shell dropdb clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(lastword $(MAKEFILE_LIST)) | sed -E 's/^([a-z]+):.*## /  make \1\t/' | expand -t 16

run: ## Install what is missing, create the demo db once, serve it on http://localhost:8069
	@$(DEV) run

test: ## Run the addon's tests in a throwaway db (TEST_TAGS=... to select)
	@$(DEV) test

update: ## Upgrade the addon (-u) in the demo db, then 'make run'
	@$(DEV) update

shell: ## Odoo shell on the demo db
	@$(DEV) shell

dropdb: ## Drop the demo db and its filestore
	@$(DEV) dropdb

clean: ## Remove generated files in the cache dir (keeps venv, Odoo, demo db)
	@$(DEV) clean
