package batch

import "github.com/kuvert-app/kuvert/fault"

// isFault reports whether err holds a fault of code.
func isFault(err error, code fault.Code) bool {
	f, ok := fault.As(err)
	return ok && f.Code == code
}
