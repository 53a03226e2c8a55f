package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(500 * time.Millisecond)
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()

	if got := run([]string{srv.URL + "/readyz"}, io.Discard); got != 0 {
		t.Errorf("200: exit %d, want 0", got)
	}
	status = http.StatusServiceUnavailable // draining, or the database is down
	if got := run([]string{srv.URL + "/readyz"}, io.Discard); got != 1 {
		t.Errorf("503: exit %d, want 1", got)
	}
	status = http.StatusOK
	if got := run([]string{"-timeout", "50ms", srv.URL + "/slow"}, io.Discard); got != 1 {
		t.Errorf("timeout: exit %d, want 1", got)
	}
	addr := srv.Listener.Addr().String()
	srv.Close()
	if got := run([]string{"http://" + addr + "/readyz"}, io.Discard); got != 1 {
		t.Errorf("nothing listening: exit %d, want 1", got)
	}
	if got := run([]string{"a", "b"}, io.Discard); got != 2 {
		t.Errorf("two URLs: exit %d, want 2", got)
	}
}
