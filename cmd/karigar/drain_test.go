package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/karigar/karigar/models/modelstest"
)

// startServe runs serve in the background and returns its base URL, the
// function that stops it as SIGTERM does, and the channel of its exit code.
func startServe(t *testing.T, env func(string) string) (string, context.CancelFunc, <-chan int, *lockedBuffer) {
	t.Helper()
	if code := run(t.Context(), []string{"migrate"}, env, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate: %d", code)
	}
	ctx, cancel := context.WithCancel(t.Context())
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, env, logs, logs) }()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1], cancel, done, logs
		}
	}
	cancel()
	t.Fatalf("server did not start:\n%s", logs.String())
	return "", nil, nil, nil
}

// On SIGTERM the server fails /readyz at once but keeps serving for the
// drain period, so that the load balancer stops sending it traffic before
// it stops listening: back-to-back requests sent during the drain, over
// kept-alive connections, all succeed; afterwards connections are refused.
func TestShutdownDrains(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			const drain = time.Second
			base, stop, done, logs := startServe(t, envOf(map[string]string{
				"KARIGAR_ADDR":           "127.0.0.1:0",
				"KARIGAR_DATABASE_URL":   modelstest.URL(t, engine),
				"KARIGAR_JWT_SECRET":     strings.Repeat("k", 40),
				"KARIGAR_SHUTDOWN_DRAIN": drain.String(),
			}))
			client := &http.Client{Timeout: 10 * time.Second}
			get := func(path string) (int, error) {
				res, err := client.Get(base + path)
				if err != nil {
					return 0, err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return res.StatusCode, nil
			}
			if code, err := get("/readyz"); err != nil || code != 200 {
				t.Fatalf("readyz before the drain: %d %v", code, err)
			}

			stopped := time.Now()
			stop() // what SIGTERM does through signal.NotifyContext
			notReady := false
			for time.Since(stopped) < 200*time.Millisecond && !notReady {
				code, err := get("/readyz")
				if err != nil {
					t.Fatalf("readyz at the start of the drain: %v", err)
				}
				notReady = code == http.StatusServiceUnavailable
			}
			if !notReady {
				t.Fatal("/readyz still answers 200 after SIGTERM")
			}
			sent := 0
			for time.Since(stopped) < drain-150*time.Millisecond {
				if code, err := get("/api/v1/products?limit=5"); err != nil || code != 200 {
					t.Fatalf("request %d, %v into the drain: %d %v", sent+1, time.Since(stopped), code, err)
				}
				if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
					t.Fatalf("readyz during the drain: %d", code)
				}
				sent++
			}
			if sent < 10 {
				t.Fatalf("only %d requests during the drain", sent)
			}
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("serve exited %d:\n%s", code, logs.String())
				}
			case <-time.After(25 * time.Second):
				t.Fatal("serve did not shut down")
			}
			if took := time.Since(stopped); took < drain {
				t.Errorf("serve stopped %v after SIGTERM, before the drain of %v ended", took, drain)
			}
			if _, err := get("/healthz"); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("after the drain a request got %v, want connection refused", err)
			}
		})
	}
}
