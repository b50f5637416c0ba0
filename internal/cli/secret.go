package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// readSecret returns a password from --password-file (a path, or "-" for
// standard input) or from KUVERT_PASSWORD, in that order; "" if neither is
// given. A password is never taken as a command-line argument: other users
// can read those in the process list.
func readSecret(f *Factory, file string) (string, error) {
	s := f.IOStreams
	if file != "" {
		var r io.Reader
		if file == "-" {
			r = s.In
		} else {
			f, err := os.Open(file)
			if err != nil {
				return "", usagef("cannot read the password file %s", file)
			}
			defer f.Close()
			r = f
		}
		line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("cannot read the password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("the password file is empty")
		}
		return checkSecret(pw)
	}
	return checkSecret(f.Getenv("KUVERT_PASSWORD"))
}

// checkSecret refuses a password with a line break inside (a CR left by
// an editor, two lines in KUVERT_PASSWORD): nobody can type it into 7-Zip
// or a phone, and docs/exit-codes.md calls it a usage error.
// The message never shows the password.
func checkSecret(pw string) (string, error) {
	if strings.ContainsAny(pw, "\r\n") {
		return "", withHint(usagef("the password contains a line break"),
			"a password is one line: save the file without a line break inside it (one at the end is fine), or set KUVERT_PASSWORD to a single line")
	}
	return pw, nil
}
