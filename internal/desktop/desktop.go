// Package desktop hands files to the desktop: open a file with the
// program the user chose for its type (the e-mail draft with the mail
// program), and show a file in the file manager.
//
// On Windows both go through the shell, as Explorer would: ShellExecute's
// "open" verb (shell32, through golang.org/x/sys/windows) for a file, and
// `explorer.exe /select,"PATH"` for showing one selected. On Linux
// xdg-open opens files and folders; on macOS `open` and `open -R`.
package desktop

import "errors"

// ErrNoAssociation means no program is registered for the file's type:
// ShellExecute's SE_ERR_NOASSOC on Windows (a fresh Windows without
// Outlook, or the new Outlook, has none for .eml), xdg-open's "no tool
// found" on Linux.
var ErrNoAssociation = errors.New("no program is set to open this kind of file")

// explorerSelect is the command line that opens an Explorer window with
// path selected: explorer.exe wants the quotes inside its one argument,
// /select,"C:\a b\c.zip", not around it as Go quotes arguments (Windows
// paths cannot hold a quote).
func explorerSelect(path string) string {
	return `explorer.exe /select,"` + path + `"`
}

// AllowForeground lets the running window come to the front when this
// process hands it files. Windows gives the foreground only to the
// process the user last acted on — here the one Explorer just started —
// unless that process passes it on (AllowSetForegroundWindow); without
// it the running window only flashes in the taskbar. Elsewhere a no-op.
func AllowForeground() { allowForeground() }
