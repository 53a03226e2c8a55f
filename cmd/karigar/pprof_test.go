package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// KARIGAR_PPROF_ADDR: off when unset; a port alone listens on loopback
// only; a host written out is taken as written; anything else names the
// variable.
func TestPprofAddrConfig(t *testing.T) {
	for v, want := range map[string]string{
		"":               "",
		"6060":           "127.0.0.1:6060",
		":6060":          "127.0.0.1:6060",
		"localhost:6060": "localhost:6060",
		"[::1]:6060":     "[::1]:6060",
		"0.0.0.0:6060":   "0.0.0.0:6060",
		"10.0.0.5:6060":  "10.0.0.5:6060",
	} {
		c, err := loadConfig(envOf(map[string]string{"KARIGAR_PPROF_ADDR": v}))
		if err != nil || c.PprofAddr != want {
			t.Errorf("%q: %q, %v; want %q", v, c.PprofAddr, err, want)
		}
	}
	for _, bad := range []string{"pprof", "70000", "127.0.0.1", "127.0.0.1:http", ":-1"} {
		if _, err := loadConfig(envOf(map[string]string{"KARIGAR_PPROF_ADDR": bad})); err == nil ||
			!strings.Contains(err.Error(), "KARIGAR_PPROF_ADDR") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

var profiling = regexp.MustCompile(`"msg":"profiling","addr":"([^"]+)"`)

// With KARIGAR_PPROF_ADDR the profiles answer on their own listener and
// not on the API's; without it nothing is said to listen and the API still
// has no profiles.
func TestPprofServedApart(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		res, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	env := map[string]string{
		"KARIGAR_ADDR":           "127.0.0.1:0",
		"KARIGAR_DATABASE_URL":   "sqlite://" + t.TempDir() + "/k.db",
		"KARIGAR_JWT_SECRET":     strings.Repeat("k", 40),
		"KARIGAR_SHUTDOWN_DRAIN": "0s",
	}
	t.Run("set", func(t *testing.T) {
		env["KARIGAR_PPROF_ADDR"] = "127.0.0.1:0"
		base, stop, done, logs := startServe(t, envOf(env))
		defer func() { stop(); <-done }()
		m := profiling.FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no profiling listener logged:\n%s", logs.String())
		}
		if code, body := get("http://" + m[1] + "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
			t.Fatalf("pprof index: %d %.200s", code, body)
		}
		if code, body := get("http://" + m[1] + "/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
			t.Fatalf("heap profile: %d %.200s", code, body)
		}
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
			if code, _ := get(base + path); code != http.StatusNotFound {
				t.Errorf("the API answers %s with %d", path, code)
			}
		}
	})
	t.Run("unset", func(t *testing.T) {
		delete(env, "KARIGAR_PPROF_ADDR")
		base, stop, done, logs := startServe(t, envOf(env))
		defer func() { stop(); <-done }()
		if strings.Contains(logs.String(), "profiling") {
			t.Fatalf("profiling without KARIGAR_PPROF_ADDR:\n%s", logs.String())
		}
		if code, _ := get(base + "/debug/pprof/"); code != http.StatusNotFound {
			t.Errorf("the API answers /debug/pprof/ with %d", code)
		}
	})
}
