# smsform: `make demo` for the tour, `make test` for the tests.
GO ?= go

.PHONY: build test demo bench fuzz clean

build:
	$(GO) build -o bin/smsform .

test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 ./...

demo: build
	./scripts/demo.sh

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 30s ./campaign/

clean:
	rm -rf bin
