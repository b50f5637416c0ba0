package cli

import (
	"fmt"
	"strings"

	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/fault"
)

// catalog is the CLI's words for the core's fault codes: each the line
// kuvert printed before the core returned codes ("svenska / English"
// where that line had both), with {name} for a field and {cause} for the
// wrapped cause in these words. The desktop app has its own, in its
// language (gui/translations); TestCatalogHasEveryCode keeps both whole.
var catalog = map[fault.Code]string{
	batch.CodeFileAbsolute:   "file {file}: an absolute path; name files relative to the manifest, in its folder or below",
	batch.CodeFileOutside:    "file {file}: outside the manifest's folder; files must lie in its folder or below",
	batch.CodeFileViaLink:    "file {file}: outside the manifest's folder (through a link); files must lie in its folder or below",
	batch.CodeFileMissing:    "file {file}: missing",
	batch.CodeFileNotFound:   "file {file}: missing or unreadable",
	batch.CodeFileSymlink:    "file {file}: a symbolic link; name the file itself",
	batch.CodeFileNotRegular: "file {file}: not a regular file (a folder, a named pipe or a device)",
	batch.CodeFileUnreadable: "file {file}: unreadable",
	batch.CodeFileChanging:   "file {file}: changed while it was checked; run again",
	batch.CodeFileInHome:     "file {file}: in kuvert's own folder (KUVERT_HOME, with the log and its signing key); kuvert seals nothing from there",
	batch.CodeFileSwapped:    "file {file}: not the file that was checked",
	batch.CodeRowNoFile:      "no file",
	batch.CodeRowNoMobile:    "no mobile number",

	batch.CodeStaleChanged:       "its files changed since it was sealed, and its archive {archive} was changed too; kuvert does not replace it (move it away and run again)",
	batch.CodeMailedChanged:      "its e-mail went out in an earlier run, but its archive {archive} was changed since; the SMS is not sent",
	batch.CodeInterruptedChanged: "interrupted in an earlier run, and its archive {archive} was changed since; kuvert does not replace it (move it away and run again)",
}

// describe is err as the CLI says it: each fault in it in the catalog's
// words, the rest as the error reads.
func describe(err error) string { return fault.Text(err, catalogWords) }

func catalogWords(e *fault.Error, cause string) (string, bool) {
	line, ok := catalog[e.Code]
	if !ok {
		return "", false
	}
	return fillFields(line, e, cause), true
}

// fillFields puts e's fields and the rendered cause into line's {name}
// places.
func fillFields(line string, e *fault.Error, cause string) string {
	if !strings.Contains(line, "{") {
		return line
	}
	pairs := []string{"{cause}", cause}
	for n, v := range e.Fields {
		pairs = append(pairs, "{"+n+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(line)
}

// problemText is one of a manifest's problems as the CLI prints it.
func problemText(p batch.Problem) string {
	if p.Row == 0 {
		return describe(p.Err)
	}
	return fmt.Sprintf("row %d: %s", p.Row, describe(p.Err))
}
