package cli

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/fault/faulttest"
)

// Every fault code the core declares has the CLI's words, and every
// entry of the catalog is a code the core declares.
func TestCatalogHasEveryCode(t *testing.T) {
	codes := faulttest.Codes(t)
	for c, where := range codes {
		if catalog[c] == "" {
			t.Errorf("the CLI's catalog lacks %s (%q)", where, c)
		}
	}
	for c := range catalog {
		if _, ok := codes[c]; !ok {
			t.Errorf("the CLI's catalog words %q, which no core package declares", c)
		}
	}
}

// Each placeholder in the catalog names a field its code is given with,
// so no line is ever printed with a "{file}" left in it.
func TestCatalogPlaceholdersFilled(t *testing.T) {
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for c, line := range catalog {
		e := fault.New(c, "file", "F", "archive", "A")
		if got := ph.FindString(fillFields(line, e, "C")); got != "" {
			t.Errorf("%s: %q left in %q", c, got, line)
		}
	}
}

// The lines batch printed before it returned codes, word for word: the
// core tests now assert the codes (batch's TestInputsConfinedToManifestFolder
// and the like), this one that the CLI still says what it said.
func TestCatalogKeepsBatchWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fault.New(batch.CodeFileMissing, "file", "saknas.pdf"), "file saknas.pdf: missing"},
		{fault.New(batch.CodeFileAbsolute, "file", "/etc/passwd"), "file /etc/passwd: an absolute path; name files relative to the manifest, in its folder or below"},
		{fault.New(batch.CodeFileOutside, "file", "../x.pdf"), "file ../x.pdf: outside the manifest's folder; files must lie in its folder or below"},
		{fault.New(batch.CodeFileViaLink, "file", "upp/x.pdf"), "file upp/x.pdf: outside the manifest's folder (through a link); files must lie in its folder or below"},
		{fault.New(batch.CodeFileSymlink, "file", "länk.pdf"), "file länk.pdf: a symbolic link; name the file itself"},
		{fault.New(batch.CodeFileNotRegular, "file", "rör"), "file rör: not a regular file (a folder, a named pipe or a device)"},
		{fault.New(batch.CodeFileInHome, "file", ".kuvert/config.json"), "file .kuvert/config.json: in kuvert's own folder (KUVERT_HOME, with the log and its signing key); kuvert seals nothing from there"},
		{fmt.Errorf("%w: %w", crypt.ErrInput, fault.New(batch.CodeFileSwapped, "file", "a.pdf")), "invalid input: file a.pdf: not the file that was checked"},
		{fault.New(batch.CodeRowNoMobile), "no mobile number"},
		{fault.New(batch.CodeStaleChanged, "archive", "a_rad2.zip"), "its files changed since it was sealed, and its archive a_rad2.zip was changed too; kuvert does not replace it (move it away and run again)"},
	} {
		if got := describe(tc.err); got != tc.want {
			t.Errorf("describe(%v)\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
	p := batch.Problem{Row: 3, Err: fault.New(batch.CodeFileMissing, "file", "saknas.pdf")}
	if got := problemText(p); got != "row 3: file saknas.pdf: missing" {
		t.Errorf("problemText %q", got)
	}
}
