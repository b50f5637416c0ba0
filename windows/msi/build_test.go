// Package msi_test tests kuvert's Windows Installer package:
// windows/msi/kuvert.wxs as scripts/msi.sh (`make msi`) builds it with
// wixl, signs it with osslsigncode, and Windows Installer (Wine's
// msiexec) installs, upgrades and removes it.
package msi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// requireTools fails the test in CI and skips it elsewhere when a tool
// make deps-windows installs is missing.
func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("scripts/msi.sh runs on Linux")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found: required in CI (make deps-windows installs it)", tool)
			}
			t.Skipf("%s not found (make deps-windows installs it)", tool)
		}
	}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	cliPath   string
	standin   string
)

// programs builds, once per test binary, this machine's kuvert (it
// writes the recipient page into the package) unless KUVERT_CLI names
// one, and a small Windows stand-in program.
func programs(t testing.TB) (cli, exe string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "kuvert-msi-test-")
		if buildErr != nil {
			return
		}
		cliPath = os.Getenv("KUVERT_CLI")
		if cliPath == "" {
			cliPath = filepath.Join(buildDir, "kuvert")
			if buildErr = goBuild(nil, cliPath, "./cmd/kuvert"); buildErr != nil {
				return
			}
		}
		standin = filepath.Join(buildDir, "standin.exe")
		buildErr = goBuild([]string{"GOOS=windows", "GOARCH=amd64"}, standin, "./windows/msi/testdata/standin")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cliPath, standin
}

func goBuild(env []string, out, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0"}, env...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return &buildError{pkg, err, b}
	}
	return nil
}

type buildError struct {
	pkg string
	err error
	out []byte
}

func (e *buildError) Error() string {
	return "go build " + e.pkg + ": " + e.err.Error() + "\n" + string(e.out)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// winBin is a folder with kuvert.exe and kuvert-gui.exe: copies of the
// given programs, each with extra bytes appended when trailer is set (a
// PE file's overlay, which Windows ignores), so two packages can carry
// files that differ.
func winBin(t testing.TB, exe, gui string, trailer string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range map[string]string{"kuvert.exe": exe, "kuvert-gui.exe": gui} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if trailer != "" {
			b = append(b, trailer...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildMSI runs scripts/msi.sh OUT with env on top of the process's
// environment, and returns its standard error.
func buildMSI(t testing.TB, out string, env ...string) (stderr string, err error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "msi.sh"), out)
	cmd.Env = append(scrubbed(), env...)
	var e bytes.Buffer
	cmd.Stderr = &e
	cmd.Stdout = &e
	err = cmd.Run()
	return e.String(), err
}

// scrubbed is the process's environment without the variables
// scripts/msi.sh reads, so a developer's own certificate never leaks in.
func scrubbed() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "VERSION", "MSI_VERSION", "WIN_BIN", "KUVERT", "KUVERT_SIGN_PASSWORD",
			"SIGN_PKCS12", "SIGN_CERT", "SIGN_KEY", "SIGN_TIMESTAMP_URL":
			continue
		}
		out = append(out, kv)
	}
	return out
}
