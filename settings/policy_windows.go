//go:build windows

package settings

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// machinePolicy reads SOFTWARE\Policies\kuvert under HKLM, then HKCU: a
// value the machine sets wins over the user's. Group Policy and Intune's
// ADMX ingestion write there.
func machinePolicy(func(string) string) (Layer, error) {
	m := policyMap{values: map[string]string{}, wheres: map[string]string{}}
	for _, root := range []struct {
		k    registry.Key
		name string
	}{{registry.LOCAL_MACHINE, "HKLM"}, {registry.CURRENT_USER, "HKCU"}} {
		k, err := registry.OpenKey(root.k, PolicyRegistryKey, registry.QUERY_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read machine policy %s\\%s: %w", root.name, PolicyRegistryKey, err)
		}
		for _, p := range Policies {
			if _, ok := m.values[p.Key]; ok {
				continue
			}
			v, _, err := k.GetStringValue(p.Name)
			if errors.Is(err, registry.ErrNotExist) {
				continue
			}
			if err != nil {
				k.Close()
				return nil, fmt.Errorf("machine policy %s\\%s\\%s is not text (REG_SZ): %w", root.name, PolicyRegistryKey, p.Name, err)
			}
			m.values[p.Key] = v
			m.wheres[p.Key] = root.name + `\` + PolicyRegistryKey
			if m.where == "" {
				m.where = m.wheres[p.Key]
			}
		}
		k.Close()
	}
	return m, nil
}
