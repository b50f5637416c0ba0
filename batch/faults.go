package batch

import "github.com/kuvert-app/kuvert/fault"

// Codes of the batch errors a person reads: a row's problems in the
// manifest and why a row failed. Each shell words them in its catalog;
// the fields are named in the comment.
const (
	CodeFileAbsolute   fault.Code = "batch.file-absolute"    // file
	CodeFileOutside    fault.Code = "batch.file-outside"     // file
	CodeFileViaLink    fault.Code = "batch.file-via-link"    // file: outside the folder through a link
	CodeFileMissing    fault.Code = "batch.file-missing"     // file
	CodeFileNotFound   fault.Code = "batch.file-not-found"   // file: missing or unreadable
	CodeFileSymlink    fault.Code = "batch.file-symlink"     // file
	CodeFileNotRegular fault.Code = "batch.file-not-regular" // file
	CodeFileUnreadable fault.Code = "batch.file-unreadable"  // file
	CodeFileChanging   fault.Code = "batch.file-changing"    // file: changed while it was checked
	CodeFileInHome     fault.Code = "batch.file-in-home"     // file: in kuvert's own folder
	CodeFileSwapped    fault.Code = "batch.file-swapped"     // file: not the file that was checked
	CodeFileHeld       fault.Code = "batch.file-held"        // file: open in another program (Excel on Windows)
	CodeRowNoFile      fault.Code = "batch.row-no-file"
	CodeRowNoMobile    fault.Code = "batch.row-no-mobile"

	// The list as a whole: its characters (line, char: the first bad
	// one, quoted) and an Excel workbook.
	CodeEncodingReplaced   fault.Code = "batch.encoding-replaced" // line, char
	CodeEncodingUnknown    fault.Code = "batch.encoding-unknown"
	CodeEncodingImprobable fault.Code = "batch.encoding-improbable" // line, char
	CodeWorkbookUnreadable fault.Code = "batch.workbook-unreadable"
	CodeWorkbookNoSheet    fault.Code = "batch.workbook-no-sheet"

	// The list's header (column: quoted as written) and its rows.
	CodeUnknownColumn  fault.Code = "batch.unknown-column" // column
	CodeColumnTwice    fault.Code = "batch.column-twice"   // column
	CodeNoFileColumn   fault.Code = "batch.no-file-column"
	CodeNoPhoneColumn  fault.Code = "batch.no-phone-column"
	CodeNoRows         fault.Code = "batch.no-rows"
	CodeRowNotCSV      fault.Code = "batch.row-not-csv" // cause: the CSV reader's
	CodeRowRecipient   fault.Code = "batch.row-recipient"
	CodeRowFormat      fault.Code = "batch.row-format"       // format: quoted as written; neither zip nor age
	CodeRowOutput      fault.Code = "batch.row-output"       // cause: the naming rule's
	CodeRowOutputOwn   fault.Code = "batch.row-output-own"   // output
	CodeRowOutputTwice fault.Code = "batch.row-output-twice" // output, row: the other row
	CodeRowEmailPnr    fault.Code = "batch.row-email-pnr"
	CodeRowEmail       fault.Code = "batch.row-email" // email (quoted), cause: the address parser's

	// A row whose archive was changed since it was sealed and logged;
	// archive is its name.
	CodeStaleChanged       fault.Code = "batch.stale-archive-changed"
	CodeMailedChanged      fault.Code = "batch.mailed-archive-changed"
	CodeInterruptedChanged fault.Code = "batch.interrupted-archive-changed"
	// … whose password was only shown by the demo provider, in a run
	// that can deliver.
	CodeShownChanged fault.Code = "batch.demo-archive-changed"

	// The output folder (dir) cannot be sealed into: a link, not a
	// folder, another account's (uid), writable by others (mode).
	CodeOutDirLink       fault.Code = "batch.outdir-link"
	CodeOutDirNotFolder  fault.Code = "batch.outdir-not-folder"
	CodeOutDirOtherOwner fault.Code = "batch.outdir-other-owner"
	CodeOutDirShared     fault.Code = "batch.outdir-shared"
	// The output folder (dir) is another batch's; a file (path) in it
	// was not written by this batch.
	CodeOutDirOtherBatch fault.Code = "batch.outdir-other-batch"
	CodeOutDirNotWritten fault.Code = "batch.outdir-not-written"
)

// words is the text of err in a row's result and report.csv: the
// shell's ([Options.Words]), else the machine text.
func (o *Options) words(err error) string {
	if o.Words != nil {
		return o.Words(err)
	}
	return err.Error()
}
