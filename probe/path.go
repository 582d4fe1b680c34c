package probe

// Path is the route an observation took, spelled as the JSON contract
// (a result's and a daemon record's "path") and the metrics' path label
// spell it: add new ones, never rename.
type Path string

// The route vocabulary.
const (
	PathDirect Path = "direct" // from this server straight to the address
	PathProxy  Path = "proxy"  // through the HTTP proxy: CONNECT, or a GET for plain HTTP
)
