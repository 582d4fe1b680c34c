//go:build !windows

package probe

// ReadChainEngine reads the chain engine's URL budgets from the registry:
// only Windows has them.
func ReadChainEngine() ([]ChainEngineValue, error) { return nil, nil }
