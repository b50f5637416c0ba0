# kuvert — see README.md. Two set-up commands on a fresh Debian/Ubuntu:
#   make run    builds kuvert and seals a sample attachment (no accounts needed)
#   make test   installs the test peers if missing and runs every test

GO      ?= go
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/kuvert-app/kuvert/internal/cli.Version=$(VERSION)
# Every go command with trimmed paths (the builds, vet, the tests and the
# programs the tests build): the build cache's keys then leave out the
# checkout's folder, and a fresh clone (CI) reuses what an earlier one
# compiled instead of compiling every package of its own again.
export GOFLAGS := $(strip $(GOFLAGS) -trimpath)

# Debian packages the tests use as real peers: 7-Zip (7zz), age, bsdtar,
# expect (drives age's passphrase prompt), PostgreSQL (kuvert server's
# tests start their own cluster with initdb and pg_ctl); wixl, msitools,
# osslsigncode and openssl build, read and sign the MSI (windows/msi).
TEST_PKGS := 7zip age libarchive-tools expect postgresql
# The desktop app: cgo with GLFW's headers, and Xvfb, ImageMagick and
# xdotool to start the real window headless and photograph it.
GUI_PKGS  := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
             libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth imagemagick xdotool

.PHONY: all build run test test-go test-desktop deps deps-windows gui gui-smoke screenshot screenshot-windows bench fuzz lint windows test-windows test-windows-cli test-windows-gui msi clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kuvert ./cmd/kuvert

# deps installs what the tests need, only when something is missing.
deps:
	@missing=""; \
	command -v 7zz    >/dev/null || missing="$$missing 7zip"; \
	command -v npm    >/dev/null || missing="$$missing nodejs npm"; \
	command -v age    >/dev/null || missing="$$missing age"; \
	command -v bsdtar >/dev/null || missing="$$missing libarchive-tools"; \
	command -v expect >/dev/null || missing="$$missing expect"; \
	command -v wixl >/dev/null || missing="$$missing wixl"; \
	command -v msiinfo >/dev/null || missing="$$missing msitools"; \
	command -v osslsigncode >/dev/null || missing="$$missing osslsigncode"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || missing="$$missing postgresql"; \
	command -v gcc >/dev/null && command -v pkg-config >/dev/null && \
	  pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm || missing="$$missing $(GUI_PKGS)"; \
	for t in xvfb-run:xvfb xauth:xauth import:imagemagick identify:imagemagick xdotool:xdotool; do \
	  command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# run: the main job on embedded defaults. Seals a sample payroll list in
# demo/ and "texts" the password through the demo provider, which prints
# the SMS instead of sending it (070-174 06 50 is in the range PTS keeps
# for fiction); the sealing is recorded in the local compliance log.
run: build
	@mkdir -p demo
	@printf 'anställningsnummer;namn;enhet;månadslön\n1001;Åsa Öberg;Förskola Solrosen;34500\n1002;Örjan Ärlig;Hemtjänst Norr;36200\n' > demo/lönelista_exempel.csv
	KUVERT_SMS_PROVIDER=console $(BIN)/kuvert encrypt --force --sender 'Exempelby kommun' --sms "070-174 06 50" demo/lönelista_exempel.csv
	$(BIN)/kuvert log list --since 1h
	@echo "Öppna med / open with:  $(BIN)/kuvert decrypt demo/lönelista_exempel.zip   (or 7-Zip)"

# test: every test, each package once: the concurrent ones (background
# work in the GUI, parallel batch rows, the shared log, SMS retries, the
# server's group commit and the client's queue) under the race detector,
# the others without it; gui vetted once more without cgo (its tests need
# none, and make test-windows runs them in a Windows test binary). Two
# lanes at once: the Go tests keep both cores busy, while the desktop
# lane (the real window under Xvfb, then Wine) mostly waits for windows
# and Wine's programs; each lane's output is shown whole when it ends.
# Then the desktop app's tests under Wine alone (see test-windows).
# The first run builds the desktop app's cgo parts (go-gl, GLFW: about
# 4-5 minutes on 2 cores); later runs reuse the cache.
RACE_PKGS := ./gui/ ./envelope/ ./batch/ ./auditlog/ ./sms/ ./server/ ./server/client/... ./internal/groupcommit/
test: deps
	@$(GO) mod tidy -diff >/dev/null || { echo 'go.mod/go.sum are not tidy: run go mod tidy'; $(GO) mod tidy -diff; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo 'gofmt would change:'; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./gui/...
	$(MAKE) --no-print-directory -j2 --output-sync=recurse test-go test-desktop
	$(MAKE) --no-print-directory test-windows-gui

test-go:
	$(GO) test -count=1 $$($(GO) list ./... | grep -vxF "$$($(GO) list $(RACE_PKGS))")
	$(GO) test -race -count=1 $(RACE_PKGS)

test-desktop:
	$(MAKE) --no-print-directory gui-smoke
	$(MAKE) --no-print-directory test-windows-cli

# The desktop app (cgo). For Windows desktops: `make windows`.
gui: deps
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kuvert-gui ./cmd/kuvert-gui

# gui-smoke starts the real app under Xvfb on every view and fails if a
# window does not come up or renders blank (pictures in bench-out/gui).
gui-smoke: gui build
	KUVERT_CLI=$(BIN)/kuvert ./scripts/screenshot.sh $(BIN)/kuvert-gui bench-out/gui

# screenshot: the pictures in docs/gui.md (Swedish and English).
screenshot: gui build
	KUVERT_CLI=$(BIN)/kuvert ./scripts/screenshot.sh $(BIN)/kuvert-gui docs/screenshots sv_SE.UTF-8
	KUVERT_CLI=$(BIN)/kuvert ./scripts/screenshot.sh $(BIN)/kuvert-gui docs/screenshots/en en_GB.UTF-8

# bench: kuvert side by side with 7-Zip and age; see docs/performance.md.
bench: deps build
	./scripts/bench.sh
	./scripts/bench-batch.sh
	$(GO) test -run '^$$' -bench . -benchmem ./crypt/ ./auditlog/ ./scan/ ./opener/
	$(GO) test -run '^$$' -bench 'BenchmarkAppend' -benchtime 3000x ./server/
	$(GO) test -run '^$$' -bench 'BenchmarkVerify1M' -benchtime 2x -timeout 30m ./server/
	$(GO) test -run '^$$' -bench 'BenchmarkSearch' -benchtime 3x -benchmem -timeout 30m ./server/

# fuzz: a short run of every fuzz target (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzOpenZip$$' -fuzztime $(FUZZTIME) ./crypt
	$(GO) test -run '^$$' -fuzz '^FuzzOpenAge$$' -fuzztime $(FUZZTIME) ./crypt
	$(GO) test -run '^$$' -fuzz '^FuzzZipRoundTrip$$' -fuzztime $(FUZZTIME) ./crypt
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyEdits$$' -fuzztime $(FUZZTIME) ./auditlog

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

# Windows: kuvert.exe (pure Go) and kuvert-gui.exe (cgo with mingw-w64,
# about 10 minutes cold on 2 cores; Go's build cache keeps later builds
# to seconds), each with its icon and version information. Wine 8.0 and a
# Swedish locale for the tests under Wine (docs/windows.md).
WINE ?= /usr/lib/wine/wine64
WIN_LDFLAGS := $(LDFLAGS)
windows: deps-windows
	./scripts/winres.sh $(VERSION)
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags '$(WIN_LDFLAGS)' -o $(BIN)/kuvert.exe ./cmd/kuvert
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -trimpath -ldflags '$(WIN_LDFLAGS) -H=windowsgui' -o $(BIN)/kuvert-gui.exe ./cmd/kuvert-gui

# test-windows: the CLI sessions that make sense on Windows, unchanged,
# against bin/kuvert.exe under Wine in a prefix of the test's own, whose
# one wineserver and services every program shares (internal/winetest):
# about 0.3 s a program, 70 s for the sessions. One session at a time:
# they share the prefix's registry, Credential Manager and %APPDATA%.
# Then the MSI with
# these programs: signed and verified, and installed, upgraded, refused
# as a downgrade and uninstalled by Wine's msiexec; between install and
# upgrade the installed kuvert.exe, given only a server address and an
# enrollment code by HKLM policy, enrolls with a real kuvert server on
# PostgreSQL, texts through its relay and ships (1 to 3 minutes).
#
# Last the desktop app's tests, cross-built for Windows without cgo
# (fyne's test driver), under Wine with a Swedish user locale
# (TestGUIUnderWine in gui/wine_test.go), and the real Windows file
# dialog answered through xdotool on Xvfb (TestDialogUnderWine in
# gui/osdialog); -p 1: one Wine session at a time. About 20 s warm to
# build, 20 s and 25 s to run. make test runs these last, on an
# otherwise idle machine: xdotool types into a real Windows dialog, and
# on a busy one Wine can read a key after xdotool has lent it back.
test-windows:
	$(MAKE) --no-print-directory test-windows-cli
	$(MAKE) --no-print-directory test-windows-gui

test-windows-cli: windows build
	KUVERT_WINDOWS_EXE=$(CURDIR)/$(BIN)/kuvert.exe KUVERT_WINDOWS_GUI=$(CURDIR)/$(BIN)/kuvert-gui.exe KUVERT_WINE=$(WINE) \
		$(GO) test -count=1 -parallel 1 -timeout 30m -run 'TestScriptsWindows|TestWindowsExe|TestWindowsGUI' ./cmd/kuvert/
	KUVERT_WINDOWS_EXE=$(CURDIR)/$(BIN)/kuvert.exe KUVERT_WINDOWS_GUI=$(CURDIR)/$(BIN)/kuvert-gui.exe KUVERT_WINE=$(WINE) \
		KUVERT_CLI=$(CURDIR)/$(BIN)/kuvert $(GO) test -count=1 -run 'TestMSIUnderWine|TestMSISignedPKCS12' ./windows/msi/

test-windows-gui: deps-windows
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) test -c -o $(BIN)/gui.test.exe ./gui
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) test -c -o $(BIN)/osdialog.test.exe ./gui/osdialog
	KUVERT_WINDOWS_GUI_TEST=$(CURDIR)/$(BIN)/gui.test.exe KUVERT_WINDOWS_OSDIALOG_TEST=$(CURDIR)/$(BIN)/osdialog.test.exe KUVERT_WINE=$(WINE) \
		$(GO) test -count=1 -p 1 -run '^(TestGUIUnderWine|TestDialogUnderWine)$$' ./gui/ ./gui/osdialog/

# msi: dist/kuvert-VERSION-x64.msi, the per-machine Windows Installer
# package (windows/msi/kuvert.wxs, built with msitools' wixl by
# scripts/msi.sh; docs/deploy-windows.md). Signed with osslsigncode when
# given the organisation's certificate: `make msi SIGN_PKCS12=FILE` (or
# SIGN_CERT=cert.pem SIGN_KEY=key.pem), the password in the environment
# as KUVERT_SIGN_PASSWORD, SIGN_TIMESTAMP_URL optional; without one it is
# built unsigned and says so.
MSI := dist/kuvert-$(VERSION)-x64.msi
msi: windows build
	VERSION='$(VERSION)' WIN_BIN=$(BIN) KUVERT=$(BIN)/kuvert SIGN_PKCS12='$(SIGN_PKCS12)' \
		SIGN_CERT='$(SIGN_CERT)' SIGN_KEY='$(SIGN_KEY)' SIGN_TIMESTAMP_URL='$(SIGN_TIMESTAMP_URL)' \
		./scripts/msi.sh $(MSI)

# screenshot-windows: the desktop app's views as kuvert-gui.exe shows them
# under Wine in Swedish (docs/screenshots/windows).
screenshot-windows: windows build
	KUVERT_CLI=$(BIN)/kuvert ./scripts/screenshot-windows.sh $(BIN)/kuvert-gui.exe docs/screenshots/windows sv_SE.UTF-8

deps-windows:
	@missing=""; \
	[ -x "$(WINE)" ] || missing="$$missing wine64"; \
	command -v x86_64-w64-mingw32-gcc >/dev/null || missing="$$missing gcc-mingw-w64-x86-64"; \
	command -v x86_64-w64-mingw32-windres >/dev/null || missing="$$missing binutils-mingw-w64-x86-64"; \
	command -v convert >/dev/null && convert -version 2>/dev/null | grep -q ImageMagick || missing="$$missing imagemagick"; \
	command -v locale-gen >/dev/null || missing="$$missing locales"; \
	command -v Xvfb >/dev/null || missing="$$missing xvfb"; \
	command -v xdotool >/dev/null || missing="$$missing xdotool"; \
	command -v setxkbmap >/dev/null || missing="$$missing x11-xkb-utils"; \
	command -v wixl >/dev/null || missing="$$missing wixl"; \
	command -v msiinfo >/dev/null || missing="$$missing msitools"; \
	command -v osslsigncode >/dev/null || missing="$$missing osslsigncode"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
		echo "make deps-windows: installing$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# Wine maps å, ä, ö in file names only through a glibc locale.
	@locale -a 2>/dev/null | grep -qi '^sv_SE.utf8$$' || { \
		echo "make deps-windows: generating the sv_SE.UTF-8 locale"; \
		$(SUDO) sed -i 's/^# *sv_SE.UTF-8 UTF-8/sv_SE.UTF-8 UTF-8/' /etc/locale.gen; \
		grep -q '^sv_SE.UTF-8 UTF-8' /etc/locale.gen || echo 'sv_SE.UTF-8 UTF-8' | $(SUDO) tee -a /etc/locale.gen >/dev/null; \
		$(SUDO) locale-gen >/dev/null; }

clean:
	rm -rf $(BIN) dist demo bench-out
