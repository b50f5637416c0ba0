package opener

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEmbeddedPageIsBuilt rebuilds the page from opener/web with exactly
// the locked packages (npm ci) in a temporary copy and requires the same
// bytes as the embedded page: what kuvert ships is what the sources and
// the lock file say. Without node and npm it skips, except under CI=true.
func TestEmbeddedPageIsBuilt(t *testing.T) {
	if testing.Short() && !browsertest.InCI {
		t.Skip("-short: skipping npm ci")
	}
	for _, tool := range []string{"node", "npm"} {
		_, err := exec.LookPath(tool)
		browsertest.NeedTool(t, err, tool)
	}
	dir := t.TempDir()
	for _, p := range []string{"package.json", "package-lock.json", "build.mjs", "src"} {
		copyTree(t, filepath.Join("web", p), filepath.Join(dir, p))
	}
	ci := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	ci.Dir = dir
	if out, err := ci.CombinedOutput(); err != nil {
		browsertest.NeedTool(t, err, "npm ci (the npm registry must be reachable):\n"+string(out))
	}
	out := filepath.Join(dir, "oppna.html")
	build := exec.Command("node", "build.mjs", out)
	build.Dir = dir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("node build.mjs: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, page) {
		t.Fatalf("the embedded opener/dist/oppna.html (sha256 %s) is not what opener/web builds (sha256 %s): run `cd opener/web && npm ci && node build.mjs` and commit the result",
			SHA256(), hex.EncodeToString(sha(got)))
	}
}

func sha(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPageIsSelfContained reads the page as a browser would: one inline
// script and one inline style, each allowed by its hash in a strict
// Content-Security-Policy, and nothing that loads from elsewhere.
func TestPageIsSelfContained(t *testing.T) {
	html := string(page)
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no Content-Security-Policy meta element")
	}
	csp := map[string]string{}
	for _, d := range strings.Split(m[1], ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			csp[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for dir, want := range map[string]string{
		"default-src": "'none'", "connect-src": "'none'", "object-src": "'none'", "worker-src": "'none'",
		"form-action": "'none'", "base-uri": "'none'", "img-src": "blob: data:", "frame-src": "'none'",
	} {
		if csp[dir] != want {
			t.Errorf("CSP %s = %q, want %q", dir, csp[dir], want)
		}
	}
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(html, -1)
	styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(html, -1)
	if len(scripts) != 1 || len(styles) != 1 {
		t.Fatalf("%d scripts and %d styles, want one of each", len(scripts), len(styles))
	}
	hash := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
	}
	if csp["script-src"] != hash(scripts[0][1]) {
		t.Errorf("script-src %q does not allow exactly the inline script (%s)", csp["script-src"], hash(scripts[0][1]))
	}
	if csp["style-src"] != hash(styles[0][1]) {
		t.Errorf("style-src %q does not allow exactly the inline style", csp["style-src"])
	}
	// Outside the script: no element that loads anything.
	markup := strings.Replace(html, scripts[0][1], "", 1)
	for _, bad := range []string{" src=", " href=", "<link", "<iframe", "<object", "<embed", "http://", "https://", " style="} {
		if strings.Contains(markup, bad) {
			t.Errorf("the page's markup contains %q", bad)
		}
	}
	for _, need := range []string{`data-testid="file"`, `data-testid="password"`, `data-testid="open"`, `data-testid="error"`, `role="alert"`, `aria-live="polite"`, `lang="sv"`} {
		if !strings.Contains(html, need) {
			t.Errorf("the page lacks %s", need)
		}
	}
	if !strings.Contains(html, "Ingenting laddas upp") || !strings.Contains(html, "Nothing is uploaded") {
		t.Error("the page does not say that nothing is uploaded (sv and en)")
	}
	if len(SHA256()) != 64 || !bytes.Equal(Page(), page) {
		t.Error("Page/SHA256 do not describe the embedded page")
	}
}
