# kuvert — see README.md. Two set-up commands on a fresh Debian/Ubuntu:
#   make run    builds kuvert and seals a sample attachment (no accounts needed)
#   make test   installs the test peers if missing and runs every test

GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kuvert-app/kuvert/internal/cli.Version=$(VERSION)

# Debian packages the tests use as real peers: 7-Zip (7zz), age, bsdtar,
# expect (drives age's passphrase prompt).
TEST_PKGS := 7zip age libarchive-tools expect

.PHONY: all build run test deps bench fuzz lint windows clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kuvert ./cmd/kuvert

# deps installs what the tests need, only when a tool is missing.
deps:
	@missing=""; \
	command -v 7zz    >/dev/null || missing="$$missing 7zip"; \
	command -v age    >/dev/null || missing="$$missing age"; \
	command -v bsdtar >/dev/null || missing="$$missing libarchive-tools"; \
	command -v expect >/dev/null || missing="$$missing expect"; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# run: the main job on embedded defaults. Seals a sample payroll list in
# demo/ and shows the generated password.
run: build
	@mkdir -p demo
	@printf 'anställningsnummer;namn;enhet;månadslön\n1001;Åsa Öberg;Förskola Solrosen;34500\n1002;Örjan Ärlig;Hemtjänst Norr;36200\n' > demo/lönelista_exempel.csv
	$(BIN)/kuvert encrypt --force demo/lönelista_exempel.csv
	@echo "Öppna med / open with:  $(BIN)/kuvert decrypt demo/lönelista_exempel.zip   (or 7-Zip)"

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# bench: kuvert side by side with 7-Zip and age; see docs/performance.md.
bench: deps build
	./scripts/bench.sh

# fuzz: a short run of every fuzz target (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzOpenZip$$' -fuzztime $(FUZZTIME) ./crypt
	$(GO) test -run '^$$' -fuzz '^FuzzOpenAge$$' -fuzztime $(FUZZTIME) ./crypt

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

# The CLI for Windows desktops and servers: pure Go, no cgo.
windows:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kuvert.exe ./cmd/kuvert

clean:
	rm -rf $(BIN) demo
