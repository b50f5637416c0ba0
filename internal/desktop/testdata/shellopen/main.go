// Command shellopen runs internal/desktop's Open on Windows for the Wine
// tests: `shellopen PATH` prints "ok", "noassoc" (exit 3) or the error
// (exit 1). Built by the test from source; never shipped.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/kuvert-app/kuvert/internal/desktop"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: shellopen PATH")
		os.Exit(2)
	}
	err := desktop.Open(os.Args[1])
	switch {
	case err == nil:
		fmt.Println("ok")
	case errors.Is(err, desktop.ErrNoAssociation):
		fmt.Println("noassoc")
		os.Exit(3)
	default:
		fmt.Println("error:", err)
		os.Exit(1)
	}
}
