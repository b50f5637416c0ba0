package sms_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// TestDocsShowRealPasswords: every example password in the guides has the
// shape crypt.Generate gives — four groups of five from crypt.Alphabet —
// so a recipient who compares never doubts the real one (the
// recipient guide showed groups of four, docs/sms.md five groups).
func TestDocsShowRealPasswords(t *testing.T) {
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	class := "[" + crypt.Alphabet + "]"
	real := regexp.MustCompile("^" + class + "{5}(-" + class + "{5}){3}$")
	if !real.MatchString(pw.Value) || len(pw.Value) != sms.GeneratedLength {
		t.Fatalf("the generator gives %d characters in another shape; update this test and the guides", len(pw.Value))
	}
	// Candidates: lower-case groups joined by dashes, with a digit.
	candidate := regexp.MustCompile(`[0-9a-z]{3,6}(-[0-9a-z]{3,6}){2,}`)
	files, _ := filepath.Glob("../docs/*.md")
	files = append(files, "../README.md")
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range candidate.FindAllString(string(b), -1) {
			// Enrollment codes (kve-…, docs/server.md) are not passwords.
			if !strings.ContainsAny(m, "0123456789") || regexp.MustCompile(`^\d{4}-\d{2}-\d{2}`).MatchString(m) || strings.HasPrefix(m, "kve-") {
				continue
			}
			seen++
			if !real.MatchString(m) {
				t.Errorf("%s shows the password %q; kuvert generates four groups of five from %s, like %s", f, m, crypt.Alphabet, "k7pq2-x3mhb-9rtw4-ndc8f")
			}
		}
	}
	if seen < 3 {
		t.Fatalf("found %d example passwords in the guides; the test no longer looks where they are", seen)
	}
}
