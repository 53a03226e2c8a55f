package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves net/http/pprof on cfg.PprofAddr, a listener apart from
// the API's: the API's router never has these routes, whatever the
// address, so no proxy or ingress in front of the API can reach them. It
// stops when ctx ends. Nothing listens when the address is empty.
func servePprof(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.PprofAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           pprofMux(),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: a CPU profile or trace answers after its ?seconds=.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	attrs := []any{"addr", ln.Addr().String()}
	if host, _, _ := net.SplitHostPort(cfg.PprofAddr); !strictLoopback(host) {
		log.Warn("profiling is served beyond this machine: profiles show command lines and stacks; keep the address off any network the public reaches", attrs...)
	} else {
		log.Info("profiling", attrs...)
	}
	return nil
}

// pprofMux is net/http/pprof on a mux of its own (not http.DefaultServeMux,
// where importing the package registers it too, and which nothing serves).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles: heap, allocs, goroutine, block, mutex
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// strictLoopback reports whether host reaches this machine only: unlike
// loopback, the unspecified address (0.0.0.0, every interface) is not.
func strictLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
