package probe

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"

	"egressprobe/internal/testenv"
)

// TestReadChainEngine reads the chain engine's budgets back from the real
// registry (Wine's under .ci/wine): the values set, the policy key first,
// and the budgets they make.
func TestReadChainEngine(t *testing.T) {
	for _, k := range []string{ChainEnginePolicyKey, ChainEngineKey} {
		for _, n := range []string{ChainURLTimeoutValue, ChainRevocationTimeoutValue} {
			testenv.DeleteRegistryValue(t, registry.LOCAL_MACHINE, k, n)
		}
	}
	if vals, err := ReadChainEngine(); err != nil || len(vals) != 0 {
		t.Fatalf("nothing set: %v, %v", vals, err)
	}
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, ChainEngineKey, ChainURLTimeoutValue, uint32(5000))
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, ChainEnginePolicyKey, ChainURLTimeoutValue, uint32(3000))
	testenv.SetRegistryValue(t, registry.LOCAL_MACHINE, ChainEngineKey, ChainRevocationTimeoutValue, uint32(40000))
	vals, err := ReadChainEngine()
	if err != nil {
		t.Fatal(err)
	}
	want := []ChainEngineValue{
		{Key: `HKLM\` + ChainEnginePolicyKey, Name: ChainURLTimeoutValue, MS: 3000},
		{Key: `HKLM\` + ChainEngineKey, Name: ChainURLTimeoutValue, MS: 5000},
		{Key: `HKLM\` + ChainEngineKey, Name: ChainRevocationTimeoutValue, MS: 40000},
	}
	if !slices.Equal(vals, want) {
		t.Fatalf("read %+v, want %+v", vals, want)
	}
	if u, r := ChainBudgets(vals); u != 3*time.Second || r != 40*time.Second {
		t.Errorf("budgets %v, %v: want the policy's 3s per URL and the machine's 40s per chain", u, r)
	}
}
