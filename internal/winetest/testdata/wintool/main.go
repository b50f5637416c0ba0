//go:build windows

// wintool does, inside a Wine prefix, what another Windows program does
// to kuvert's files and that a test cannot do from the Unix side:
//
//	wintool lock FILE   open FILE with share mode 0, as Excel holds an
//	                    open workbook, print "locked", and hold it until
//	                    standard input ends
//
// The tests build it from source with GOOS=windows; it is never shipped.
package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) != 3 || os.Args[1] != "lock" {
		fmt.Fprintln(os.Stderr, "usage: wintool lock FILE")
		os.Exit(2)
	}
	p, err := syscall.UTF16PtrFromString(os.Args[2])
	if err != nil {
		fail(err)
	}
	// Share mode 0: every other open of the file fails with
	// ERROR_SHARING_VIOLATION while we hold it.
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil,
		syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		fail(err)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	syscall.CloseHandle(h)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wintool:", err)
	os.Exit(1)
}
