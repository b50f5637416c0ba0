//go:build !windows

package settings

func machinePolicy(getenv func(string) string) (Layer, error) { return filePolicy(getenv) }
