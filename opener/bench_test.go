package opener

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// benchSize is the plaintext of the benchmark archive: payroll-like CSV,
// which kuvert deflates (about 5:1).
const benchSize = 50 << 20

var (
	benchOnce   sync.Once
	benchZip    string
	benchStored string
	benchDir    string
)

func benchArchive(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuvert-opener-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		benchZip = seal(b, filepath.Join(dir, "lönelista.zip"), []file{{"lönelista.csv", payroll(benchSize, 50)}}, crypt.SealOptions{})
		benchStored = seal(b, filepath.Join(dir, "skanning.zip"), []file{{"skanning.pdf", random(benchSize, 51)}}, crypt.SealOptions{})
	})
	return benchZip
}

// BenchmarkOpen50MB opens a 50 MB (plaintext) deflated AES-256 zip the way
// a recipient does, in headless Chromium: from pressing Open until the file
// is offered, authenticated. The MB/s are plaintext bytes. For comparison
// the same file through `kuvert decrypt` (built here, a separate process,
// writing to disk), and the page again with DevTools CPU throttling ×4
// (a mid-range phone). "chromium-stored" is 50 MB that kuvert stores
// (pdf, jpg, random data): every byte then goes through the page's
// JavaScript AES and HMAC-SHA1, which bound it. Results:
// docs/performance.md.
func BenchmarkOpen50MB(b *testing.B) {
	arch := benchArchive(b)
	b.Cleanup(func() { os.RemoveAll(benchDir) })
	if fi, err := os.Stat(arch); err == nil {
		b.Logf("archive: %.1f MB for %d MB of CSV", float64(fi.Size())/1e6, benchSize>>20)
	}
	for _, bc := range []struct {
		name     string
		throttle float64
		arch     string
	}{{"chromium", 1, arch}, {"chromium-cpu-x4", 4, arch}, {"chromium-stored", 1, benchStored}} {
		b.Run(bc.name, func(b *testing.B) {
			tb := newTab(b, tabOptions{throttle: bc.throttle})
			b.SetBytes(benchSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := tb.open(bc.arch, testPassword, "")
				if r.Error != "" || len(r.Entries) != 1 {
					b.Fatalf("got %+v", r)
				}
			}
			b.StopTimer()
			// The entry offered is the whole authenticated file.
			size, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=entry] .entry-meta').textContent`))
			if err != nil || size == "" {
				b.Fatalf("no size shown: %v", err)
			}
		})
	}
	b.Run("kuvert-decrypt", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "kuvert")
		build := exec.Command("go", "build", "-o", bin, "github.com/kuvert-app/kuvert/cmd/kuvert")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
		pw := filepath.Join(b.TempDir(), "pw")
		os.WriteFile(pw, []byte(testPassword+"\n"), 0o600)
		b.SetBytes(benchSize)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			out := filepath.Join(b.TempDir(), "ut")
			cmd := exec.Command(bin, "decrypt", "--password-file", pw, "-q", "-o", out, arch)
			cmd.Env = append(os.Environ(), "KUVERT_HOME="+b.TempDir())
			if o, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("kuvert decrypt: %v\n%s", err, o)
			}
			b.StopTimer()
			got, err := os.ReadFile(filepath.Join(out, "lönelista.csv"))
			if err != nil || len(got) != benchSize {
				b.Fatalf("kuvert decrypt wrote %d bytes: %v", len(got), err)
			}
			os.RemoveAll(out)
			b.StartTimer()
		}
	})
}
