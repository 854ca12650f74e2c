# smsform: `make demo` for the tour, `make test` for the tests.
GO ?= go

.PHONY: build test lint test-go test-browser demo bench fuzz clean

build:
	$(GO) build -o bin/smsform .

# make test: the static checks, then the Go tests and the browser test side by side. About
# three minutes on an idle 2-core machine (the README's Development section has the figures).
test: lint
	@$(MAKE) --no-print-directory -j2 test-go test-browser

# vet, gofmt, go.mod tidy (a directly imported module marked indirect, or a stale go.sum,
# fails), and staticcheck at the version go.mod pins with its tool directive.
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy and commit the result"; exit 1; }
	$(GO) tool staticcheck ./...

# The Go tests, with the race detector. Most of the slow ones wait on processes they run, a
# disk or a sandbox's latency: -parallel 4 (the default is one per core) keeps both cores of
# a small machine busy. The PostgreSQL tests use the server SMSFORM_TEST_POSTGRES names, or
# start a private cluster from the installed binaries (Debian: /usr/lib/postgresql/*/bin);
# without PostgreSQL they fail with the command that installs it (.ci/run installs it).
test-go:
	@test -n "$$SMSFORM_TEST_POSTGRES" || command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		{ echo "PostgreSQL is needed by the state tests: apt-get update && apt-get install -y postgresql (or set SMSFORM_TEST_POSTGRES to a server URL)"; exit 1; }
	$(GO) test -race -count=1 -parallel 4 -timeout 40m ./...

# The HTML report in a real browser (e2e/report.test.mjs): it needs Debian's chromium, which
# .ci/run installs; without it, one line says the test did not run.
CHROMIUM ?= /usr/bin/chromium
test-browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		$(GO) build -o bin/smsform . && cd e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null && SMSFORM=../bin/smsform CHROMIUM="$(CHROMIUM)" node report.test.mjs; \
	else \
		echo "browser test of the HTML report did not run: no $(CHROMIUM) (install it: sudo apt-get install -y chromium)"; \
	fi

demo: build
	./scripts/demo.sh

# The end-to-end table (1M recipients; BENCH_N=100000 for a quicker look), then the
# benchmarks of the hot functions. BENCH_N may be a list ("1000000 5000000 10000000"): the
# table is of the first size, and a growth table gives the time and peak RSS of validate,
# plan, apply and re-plan at each.
# The apply of the last build that sent through the superseded v2 endpoint (V2_COMMIT) is
# measured in the same run, against the same sandbox; it is built from git history, and left
# out, with a note, where there is none (a source archive).
BENCH_N ?= 1000000
V2_COMMIT ?= c26c4a5
bench: build
	$(GO) build -o bin/baseline ./bench/baseline
	@rm -rf bin/v2-src bin/smsform-v2; \
	if git cat-file -e $(V2_COMMIT)^{commit} 2>/dev/null; then \
		mkdir -p bin/v2-src && git archive $(V2_COMMIT) | tar -x -C bin/v2-src && \
		(cd bin/v2-src && $(GO) build -o ../smsform-v2 .) && rm -rf bin/v2-src; \
	else echo "no git history here: the v2 build ($(V2_COMMIT)) is not measured; run make bench in a git clone to compare with it"; fi
	set -- $(BENCH_N); first=$$1; shift; \
	$(GO) run ./bench -n $$first -growth "$$*" $$(test -x bin/smsform-v2 && echo -compare-bin bin/smsform-v2)
	$(GO) test -run '^$$' -bench . -benchmem ./campaign ./state/... ./runner ./internal/infobip

# Each fuzz target in turn (go test fuzzes one at a time); the seed corpus, hostile inputs
# included, is in campaign/testdata/fuzz and also runs with every `go test`.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzCSV$$' -fuzztime $(FUZZTIME) ./campaign/
	$(GO) test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) ./campaign/

clean:
	rm -rf bin
