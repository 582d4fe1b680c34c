package probe

import (
	"context"
	"errors"
	"net"
	"time"

	"egressprobe/proxy"
)

// ConnectResult is the proxy CONNECT step.
type ConnectResult struct {
	Step              // ok | proxy_unreachable | proxy_auth_required | proxy_denied | proxy_error | proxy_timeout | local_resources | cancelled
	Proxy      string `json:"proxy"`       // redacted proxy URL
	ProxyAddr  string `json:"proxy_addr"`  // the proxy's own address that was dialled "IP:PORT"
	StatusCode int    `json:"status_code"` // CONNECT status, 0 when none was read
}

// Connect dials route's proxy (http:// or https://) and opens a CONNECT tunnel
// to target "host:port"; the returned conn is the tunnel (nil unless ok), with
// no deadline set. ctx bounds the whole step: a proxy that never answers ends
// in proxy_timeout at ctx's deadline.
func Connect(ctx context.Context, route proxy.Route, target string) (net.Conn, ConnectResult) {
	return proxyStep(ctx, route, "CONNECT "+target+": the route is direct, there is no proxy to ask", func(d proxy.Dialer) (net.Conn, proxy.Tunnel, error) {
		return d.Connect(ctx, route.Proxy, target)
	})
}

// DialProxy connects to route's proxy without a tunnel, for a plain-HTTP GET
// in absolute form (HTTPRequest.Proxy): the way http:// URLs, NCSI's among
// them, go through a proxy. The result is classified as Connect's, with no
// status code (the proxy's answer is the HTTP step's).
func DialProxy(ctx context.Context, route proxy.Route) (net.Conn, ConnectResult) {
	return proxyStep(ctx, route, "the route is direct, there is no proxy to send the request to", func(d proxy.Dialer) (net.Conn, proxy.Tunnel, error) {
		return d.Dial(ctx, route.Proxy)
	})
}

// proxyStep times one way of reaching route's proxy and classifies how it
// ended; direct is the error for a route that has no proxy.
func proxyStep(ctx context.Context, route proxy.Route, direct string, reach func(proxy.Dialer) (net.Conn, proxy.Tunnel, error)) (net.Conn, ConnectResult) {
	res := ConnectResult{Step: Step{Start: time.Now()}, Proxy: route.Redacted()}
	if route.Direct() {
		res.Outcome = ProxyError
		res.Error = direct + " (" + route.String() + ")"
		return nil, res
	}
	conn, tun, err := reach(proxy.Dialer{Roots: route.ProxyRoots})
	res.Duration = time.Since(res.Start)
	res.ProxyAddr, res.StatusCode = tun.Addr, tun.StatusCode
	if err != nil {
		res.Outcome = classifyConnect(ctx, err)
		res.Error = proxy.Redact(err.Error())
		return nil, res
	}
	res.Outcome = OK
	return conn, res
}

// classifyConnect maps the proxy dialer's typed errors onto the vocabulary:
// the proxy's own address not reachable, its HTTP answer, or silence.
func classifyConnect(ctx context.Context, err error) Outcome {
	var se *proxy.StatusError
	if errors.As(err, &se) {
		switch {
		case se.AuthRequired():
			return ProxyAuthRequired
		case se.Code >= 400 && se.Code < 500:
			return ProxyDenied
		default:
			return ProxyError
		}
	}
	if stopped(ctx, err) {
		return Cancelled
	}
	var oe *proxy.OpError
	if errors.As(err, &oe) {
		switch {
		case oe.Op == proxy.OpDial && classifyDial(ctx, oe.Err) == faultLocalResources:
			return LocalResources
		case oe.Op == proxy.OpResolve || oe.Op == proxy.OpDial:
			return ProxyUnreachable
		case oe.Timeout():
			return ProxyTimeout
		}
	}
	return ProxyError
}
