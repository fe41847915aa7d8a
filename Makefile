# planrun developer targets. CI runs `make test` (see .ci/run).
#
#   make deps    install the PostgreSQL server binaries the tests and the
#                embedded target start a throwaway server from, and the
#                SQLAlchemy reference of the parity test (python3-sqlalchemy,
#                python3-asyncpg; scripts/install-deps.sh)
#   make build   build bin/planrun
#   make demo    run the smoke plan against an embedded server
#   make test    vet, then every test with the race detector (four packages
#                at a time, then recommend's alone), then the few that skip
#                under it without it
#   make bench   every benchmark, no tests
#   make screenshots
#                run plans/production.yaml and screenshot its markdown and
#                HTML reports into docs/img (scripts/screenshot.sh: needs
#                chromium, npm). By default the FULL plan (SHOT_TIME_SCALE=1:
#                13m56s of load); SHOT_TIME_SCALE=0.05 for a ~45 s rehearsal,
#                SHOT_RUN=RUN.json to re-render a saved run instead

GO   ?= go
BIN  ?= bin/planrun
PLAN ?= plans/smoke.yaml
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

SHOT_DIR ?= out/screenshots
SHOT_TIME_SCALE ?= 1
SHOT_RUN ?=
SHOT_IMG ?= docs/img
SHOT_JSON = $(if $(SHOT_RUN),$(SHOT_RUN),$(SHOT_DIR)/run.json)

.PHONY: all deps build demo test bench screenshots fmt vet clean

all: build

deps:
	bash scripts/install-deps.sh

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/planrun

demo: deps build
	./$(BIN) $(PLAN)

# RACE_SKIPPED are the tests that skip under the race detector because it
# slows them tenfold or more and they run on one goroutine: make test runs
# them again without it.
RACE_SKIPPED = '^(TestMMcMeanWaitLong|TestMD1|TestForgedCorpusIsUpToDate)$$'

# TEST_PACKAGES_AT_ONCE: most tests are real runs bound by wall time (rates,
# durations, holds), so two packages at a time (go test's default on two
# cores) left the cores about a third busy and the suite took 9 minutes;
# four at a time take about 4, and recommend's package alone one more.
TEST_PACKAGES_AT_ONCE ?= 4

# ALONE are the packages whose tests set a model's predictions against real
# runs to within 15 %: the other packages' load would skew those runs, so
# they run after the others, by themselves.
ALONE = github.com/planrun/planrun/recommend

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -p $(TEST_PACKAGES_AT_ONCE) -timeout 15m $$($(GO) list ./... | grep -v -x -F '$(ALONE)')
	$(GO) test -race -count=1 -timeout 15m $(ALONE)
	$(GO) test -count=1 -run $(RACE_SKIPPED) ./poolmodel ./merge

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The run's exit code is its verdict; any run that wrote a report will do.
screenshots: deps build
	mkdir -p $(SHOT_DIR) $(SHOT_IMG)
	test -n "$(SHOT_RUN)" || ./$(BIN) plans/production.yaml --time-scale $(SHOT_TIME_SCALE) \
		--quiet --format json >$(SHOT_DIR)/run.json || test -s $(SHOT_DIR)/run.json
	./$(BIN) report $(SHOT_JSON) --format markdown >$(SHOT_DIR)/report.md
	./$(BIN) report $(SHOT_JSON) --format html >$(SHOT_DIR)/report.html
	bash scripts/screenshot.sh $(SHOT_DIR)/report.md $(SHOT_IMG)/report-markdown.png
	bash scripts/screenshot.sh $(SHOT_DIR)/report.html $(SHOT_IMG)/report-html.png

fmt:
	$(GO) fmt ./...

vet:
	$(GO) vet ./...

clean:
	rm -rf bin out
