package desktop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var procShellExecuteW = windows.NewLazySystemDLL("shell32.dll").NewProc("ShellExecuteW")

// ShellExecute's results at or below 32 are errors.
const (
	seErrFNF     = 2
	sePNF        = 3
	seErrAccess  = 5
	seErrNoAssoc = 31
)

// Open opens path with its type's default program: ShellExecute "open",
// which is what a double-click in Explorer does.
func Open(path string) error {
	// Shell extensions may use COM: ShellExecute wants it initialised on
	// the calling thread, so it gets a thread of its own.
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := windows.CoInitializeEx(0, windows.COINIT_APARTMENTTHREADED|windows.COINIT_DISABLE_OLE1DDE); err == nil {
			defer windows.CoUninitialize()
		}
		done <- shellOpen(path)
	}()
	return <-done
}

func shellOpen(path string) error {
	verb, err := windows.UTF16PtrFromString("open")
	if err != nil {
		return err
	}
	file, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	dir, err := windows.UTF16PtrFromString(filepath.Dir(path))
	if err != nil {
		return err
	}
	r, _, lastErr := procShellExecuteW.Call(0, uintptr(unsafe.Pointer(verb)), uintptr(unsafe.Pointer(file)), 0,
		uintptr(unsafe.Pointer(dir)), windows.SW_SHOWNORMAL)
	if r > 32 {
		return nil
	}
	switch {
	case r == seErrNoAssoc || errors.Is(lastErr, windows.ERROR_NO_ASSOCIATION):
		return ErrNoAssociation
	case r == seErrFNF || r == sePNF:
		return fmt.Errorf("%s: %w", path, os.ErrNotExist)
	case r == seErrAccess:
		return fmt.Errorf("%s: %w", path, os.ErrPermission)
	}
	return fmt.Errorf("ShellExecute %s: error %d", path, r)
}

// Reveal shows path selected in an Explorer window. explorer.exe wants
// the quotes inside its argument (/select,"C:\a b\c.zip"), which Go's
// quoting of arguments would not write, so the command line is given
// whole. explorer.exe exits 1 even when it worked: only starting counts.
func Reveal(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return err
	}
	exe := filepath.Join(os.Getenv("WINDIR"), "explorer.exe")
	if os.Getenv("WINDIR") == "" {
		exe = "explorer.exe"
	}
	cmd := exec.Command(exe)
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: explorerSelect(abs)}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // see above
	return nil
}

var procAllowSetForegroundWindow = windows.NewLazySystemDLL("user32.dll").NewProc("AllowSetForegroundWindow")

// asfwAny lets any process take the foreground (ASFW_ANY, (DWORD)-1).
const asfwAny = ^uint32(0)

func allowForeground() {
	if procAllowSetForegroundWindow.Find() == nil {
		_, _, _ = procAllowSetForegroundWindow.Call(uintptr(asfwAny))
	}
}
