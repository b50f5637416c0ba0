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
func readSecret(s *IOStreams, file string) (string, error) {
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
			return "", fmt.Errorf("cannot read the password: %v", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("the password file is empty")
		}
		return pw, nil
	}
	return os.Getenv("KUVERT_PASSWORD"), nil
}
