// Command kuvert seals attachments into AES-256 zip or age archives, opens
// them, and generates strong passwords. See `kuvert --help`.
package main

import (
	"os"

	"github.com/kuvert-app/kuvert/internal/cli"
)

func main() { os.Exit(cli.Main()) }
