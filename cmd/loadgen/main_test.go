package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func countingServer(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func runJSON(t *testing.T, args ...string) (int, Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	var res Result
	if code != 2 {
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("invalid JSON output %q: %v (stderr %q)", stdout.String(), err, stderr.String())
		}
	}
	return code, res, stderr.String()
}

func TestRunOK(t *testing.T) {
	srv, hits := countingServer(t, http.StatusOK)
	urlsFile := filepath.Join(t.TempDir(), "urls.txt")
	content := "# comment\n\n" + srv.URL + "/b\n"
	if err := os.WriteFile(urlsFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, res, stderr := runJSON(t, "-c", "4", "-d", "300ms", "-warmup", "100ms", "-json",
		"-name", "ok", "-urls", urlsFile, srv.URL+"/a")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if res.Requests <= 0 || res.Errors != 0 || res.Non2xx != 0 {
		t.Fatalf("unexpected result %+v", res)
	}
	if seen := hits.Load(); seen < int64(res.Requests) {
		t.Fatalf("server saw %d requests, loadgen reported %d", seen, res.Requests)
	}
	if res.Name != "ok" || res.Concurrency != 4 || res.RPS <= 0 || res.MaxMs < res.P50Ms {
		t.Fatalf("unexpected result %+v", res)
	}
}

func TestRunCap(t *testing.T) {
	srv, _ := countingServer(t, http.StatusOK)
	code, res, stderr := runJSON(t, "-c", "4", "-d", "2s", "-warmup", "0", "-n", "10", "-json", srv.URL)
	if code != 0 || res.Requests != 10 {
		t.Fatalf("exit %d, result %+v, stderr %q", code, res, stderr)
	}
}

func TestRunNon2xx(t *testing.T) {
	srv, _ := countingServer(t, http.StatusInternalServerError)
	code, res, _ := runJSON(t, "-c", "2", "-d", "150ms", "-warmup", "0", "-json", srv.URL)
	if code != 1 || res.Non2xx == 0 || res.Errors != 0 {
		t.Fatalf("exit %d, result %+v", code, res)
	}
}

func TestRefuseNonLoopback(t *testing.T) {
	srv, hits := countingServer(t, http.StatusOK)
	for _, u := range []string{"http://10.1.2.3/", "http://example.com/", "ftp://127.0.0.1/"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"-d", "100ms", "-warmup", "0", srv.URL, u}, &stdout, &stderr)
		if code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "refusing") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", u, code, stdout.String(), stderr.String())
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("server received %d requests despite refusal", n)
	}
}

func TestCheckLoopback(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:8080/x": true, "http://127.9.8.7/": true, "http://[::1]:80/": true,
		"https://LOCALHOST/": true, "http://10.1.2.3/": false, "http://example.com/": false,
		"http://[::2]/": false, "http://localhost.example.com/": false,
	} {
		if err := checkLoopback(u); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", u, err, ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	ten := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		in   []time.Duration
		p    float64
		want int
	}{
		{nil, 50, 0},
		{ms(7), 50, 7}, {ms(7), 99, 7},
		{ms(1, 2), 50, 1}, {ms(1, 2), 51, 2},
		{ms(15, 20, 35, 40, 50), 30, 20}, {ms(15, 20, 35, 40, 50), 40, 20},
		{ms(15, 20, 35, 40, 50), 50, 35}, {ms(15, 20, 35, 40, 50), 100, 50},
		{ten, 50, 5}, {ten, 90, 9}, {ten, 91, 10}, {ten, 99, 10}, {ten, 100, 10},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != time.Duration(tt.want)*time.Millisecond {
			t.Errorf("percentile(%v, %v) = %v, want %dms", tt.in, tt.p, got, tt.want)
		}
	}
}
