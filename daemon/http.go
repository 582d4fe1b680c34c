package daemon

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"egressprobe/proxy"
)

// Handler serves /metrics, /healthz and POST /-/reload (as Prometheus's own
// /-/reload: 200 when the new config is in use, 500 with the reason when it
// was rejected and the old one keeps running).
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		reply := make(chan error, 1)
		select {
		case d.reloads <- reply:
		case <-r.Context().Done():
			return
		case <-d.stopped:
			http.Error(w, "the daemon is stopping", http.StatusServiceUnavailable)
			return
		}
		if err := <-reply; err != nil {
			http.Error(w, "reload rejected, the previous config keeps running: "+proxy.Redact(err.Error()), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})
	return mux
}
