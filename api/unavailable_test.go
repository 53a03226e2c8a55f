package api_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// wantUnavailable asserts a 503 unavailable with a Retry-After in seconds.
func wantUnavailable(t *testing.T, what string, res *response) {
	t.Helper()
	if res.Code != 503 {
		t.Errorf("%s: status %d, want 503; body %s", what, res.Code, res.Body)
		return
	}
	res.wantError(t, 503, "unavailable")
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n <= 0 {
		t.Errorf("%s: Retry-After %q", what, res.Header.Get("Retry-After"))
	}
}

// requestsAfterLoss are DB-backed routes, anonymous and signed in, reading
// and writing, each of which must answer 503 when the database is lost.
func requestsAfterLoss(t *testing.T, e *env, buyer session) {
	t.Helper()
	wantUnavailable(t, "products", e.do("GET", "/api/v1/products", nil))
	wantUnavailable(t, "orders", e.do("GET", "/api/v1/orders", nil, bearer(buyer.AccessToken)))
	wantUnavailable(t, "login", e.do("POST", "/api/v1/auth/login", map[string]string{"email": "b@example.com",
		"password": "correct horse battery"}))
	wantUnavailable(t, "register", e.do("POST", "/api/v1/auth/register", map[string]string{"email": "c@example.com",
		"password": "correct horse battery", "name": "C", "role": "buyer"}))
	wantUnavailable(t, "readyz", e.do("GET", "/readyz", nil))
	if res := e.do("GET", "/healthz", nil); res.Code != 200 {
		t.Errorf("healthz answers %d without the database: the process is alive", res.Code)
	}
}

// A database whose pool is closed (as at shutdown) is unavailable, not a bug.
func TestDatabaseClosedAnswers503(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		buyer := e.register("b@example.com", "buyer")
		sqlDB, err := e.db.DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlDB.Close(); err != nil {
			t.Fatal(err)
		}
		requestsAfterLoss(t, e, buyer)
	})
}

// A PostgreSQL server that goes away mid-life (reached through a proxy that
// is then cut: open connections drop, new ones are refused) is 503.
func TestPostgresGoneAnswers503(t *testing.T) {
	t.Parallel()
	if !contains(modelstest.Engines(), "postgres") {
		t.Skip("PostgreSQL is not under test")
	}
	u, err := url.Parse(modelstest.URL(t, "postgres")) // a fresh schema
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	db, err := models.Open(context.Background(), u.String(), models.OpenOptions{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	buyer := e.register("b@example.com", "buyer")
	p.cut()
	requestsAfterLoss(t, e, buyer)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type tcpProxy struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// startProxy forwards a local port to target until cut.
func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

// cut refuses new connections and drops the open ones.
func (p *tcpProxy) cut() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}
