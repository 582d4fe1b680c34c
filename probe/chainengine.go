package probe

import "time"

// The registry keys of Windows' chain engine: the policy (Group Policy) and
// the machine's own; a value in the policy key wins.
const (
	ChainEnginePolicyKey = `SOFTWARE\Policies\Microsoft\SystemCertificates\ChainEngine\Config`
	ChainEngineKey       = `SOFTWARE\Microsoft\Cryptography\OID\EncodingType 0\CertDllCreateCertificateChainEngine\Config`
)

// The values of the chain engine's URL budgets, in milliseconds.
const (
	ChainURLTimeoutValue        = "ChainUrlRetrievalTimeoutMilliseconds"
	ChainRevocationTimeoutValue = "ChainRevAccumulativeUrlRetrievalTimeoutMilliseconds"
)

// ChainEngineValue is one chain-engine budget set in HKLM.
type ChainEngineValue struct {
	Key  string `json:"key"` // HKLM\...
	Name string `json:"name"`
	MS   uint32 `json:"ms"`
}

// ChainBudgets are Windows' per-URL and per-chain revocation budgets given
// the values set (ReadChainEngine): the policy key's, else the machine
// key's, else Windows' defaults. A 0 is not a budget: the default stands.
func ChainBudgets(vals []ChainEngineValue) (perURL, revocation time.Duration) {
	return chainBudget(vals, ChainURLTimeoutValue, WindowsURLTimeout), chainBudget(vals, ChainRevocationTimeoutValue, WindowsRevocationTimeout)
}

func chainBudget(vals []ChainEngineValue, name string, def time.Duration) time.Duration {
	got, fromPolicy := def, false
	for _, v := range vals {
		if v.Name != name || v.MS == 0 || fromPolicy {
			continue
		}
		got, fromPolicy = time.Duration(v.MS)*time.Millisecond, v.Key == `HKLM\`+ChainEnginePolicyKey
	}
	return got
}
