package probe

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// ReadChainEngine reads the chain engine's URL budgets set in HKLM, the
// policy key first; values not set are left out.
func ReadChainEngine() ([]ChainEngineValue, error) {
	var out []ChainEngineValue
	var errs []error
	for _, key := range []string{ChainEnginePolicyKey, ChainEngineKey} {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, registry.QUERY_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf(`reading HKLM\%s: %w`, key, err))
			continue
		}
		for _, name := range []string{ChainURLTimeoutValue, ChainRevocationTimeoutValue} {
			v, _, err := k.GetIntegerValue(name)
			switch {
			case errors.Is(err, registry.ErrNotExist):
			case err != nil:
				errs = append(errs, fmt.Errorf(`reading HKLM\%s\%s: %w`, key, name, err))
			default:
				out = append(out, ChainEngineValue{Key: `HKLM\` + key, Name: name, MS: uint32(v)})
			}
		}
		_ = k.Close()
	}
	return out, errors.Join(errs...)
}
