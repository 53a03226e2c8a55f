package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"golang.org/x/crypto/bcrypt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/sms"
)

var testSecret = []byte("test-secret-test-secret-test-secret!")

// env is one API server on one fresh database, driven through its real
// router; every response is checked against docs/openapi.yaml.
type env struct {
	t      *testing.T
	orders *orders.Service
	ledger *ledger.Service
	db     *gorm.DB
	auth   *auth.Service
	srv    *api.Server
	spec   *specChecker
	now    time.Time
	// inbound answers SMS as POST /sms/inbound will (the receipts' replies);
	// pii is the box the server seals phone numbers with.
	inbound sms.Handler
	pii     *pii.Box
	// storage keeps the env's product photos: a folder of the test's own
	// unless withStorage gives another.
	storage media.Storage
	media   *media.Service
}

// envConfig is what an envOption may change before the server is built.
type envConfig struct {
	wiring *api.Wiring
	api    *api.Config
}

type envOption func(envConfig)

func newEnv(t *testing.T, db *gorm.DB, opts ...envOption) *env {
	t.Helper()
	w := testWiring()
	cfg := api.Config{DB: db, Logger: w.Logger}
	for _, o := range opts {
		o(envConfig{&w, &cfg})
	}
	if w.Storage == nil {
		local, err := media.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		w.Storage = local
	}
	srv, svc := newServer(t, db, w, cfg)
	return &env{t: t, orders: svc.Orders, ledger: svc.Ledger, db: db, auth: svc.Auth, srv: srv, spec: newSpecChecker(t),
		inbound: svc.SMSInbound, pii: w.PII, storage: w.Storage, media: svc.Media}
}

// testWiring is the configuration every test server runs with: test
// secrets, fees of 10% and 3%, and bcrypt's cheapest cost.
func testWiring() api.Wiring {
	return api.Wiring{Currency: "PKR", Secret: testSecret, LedgerKey: testLedgerKey, PII: testPII, PlatformFeeBPS: 1000, ProcessingFeeBPS: 300,
		BcryptCost: bcrypt.MinCost, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

// newServer wires the services and the server as cmd/karigar does.
func newServer(t testing.TB, db *gorm.DB, w api.Wiring, cfg api.Config) (*api.Server, api.Services) {
	t.Helper()
	svc, err := api.Build(db, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Catalog.InitFees(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg.Services = svc
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, svc
}

func withLimits(l auth.Limits) envOption {
	return func(c envConfig) { c.wiring.Limits = l }
}

func withClock(now func() time.Time) envOption {
	return func(c envConfig) { c.wiring.Clocks.Auth, c.wiring.Clocks.Orders = now, now }
}

// eachDB runs fn on a fresh env for every engine under test.
func eachDB(t *testing.T, fn func(t *testing.T, e *env), opts ...envOption) {
	// Every test has databases of its own and the services keep nothing in
	// memory, so tests run side by side: most of their time is spent
	// waiting on the database, not the processor.
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		fn(t, newEnv(t, db, opts...))
	})
}

// count returns the number of rows in table matching where, failing the
// test if the query fails (so an assertion on zero cannot pass by accident).
func (e *env) count(table, where string, args ...any) int64 {
	e.t.Helper()
	var n int64
	q := e.db.Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// inParallel runs fn(0..n-1) at once and waits for all of them.
func inParallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte // decoded when it came gzipped
	Sent   int    // bytes of body on the wire
}

// decode unmarshals the body into v and fails the test if it cannot.
func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// wantError asserts the status and the envelope's code and returns the error.
func (r *response) wantError(t *testing.T, status int, code string) apiError {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body)
	}
	var e apiError
	r.decode(t, &e)
	if e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q with a message", e.Error, code)
	}
	return e
}

func (r *response) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body)
	}
}

type reqOption func(*http.Request)

func bearer(token string) reqOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func header(k, v string) reqOption {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// rawBody marks a body to be sent as is rather than JSON-encoded.
type rawBody string

// do sends a request through the router. body is JSON-encoded unless it is a
// rawBody or nil.
func (e *env) do(method, path string, body any, opts ...reqOption) *response {
	e.t.Helper()
	var buf []byte
	switch b := body.(type) {
	case nil:
	case rawBody:
		buf = []byte(b)
	default:
		var err error
		if buf, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(buf))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	res := &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes(), Sent: rec.Body.Len()}
	if res.Header.Get("Content-Encoding") == "gzip" {
		// Checked and decoded as a client sees it; Sent keeps the size on the wire.
		zr, err := gzip.NewReader(bytes.NewReader(res.Body))
		if err != nil {
			e.t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
		if res.Body, err = io.ReadAll(zr); err != nil {
			e.t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
	}
	e.spec.check(e.t, method, path, req.Header, res)
	if res.Code == http.StatusCreated && !strings.HasPrefix(res.Header.Get("Location"), api.Base+"/") {
		e.t.Errorf("%s %s: 201 with Location %q, want the created resource's URL", method, path, res.Header.Get("Location"))
	}
	if res.Code == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		e.t.Errorf("%s %s: 401 with WWW-Authenticate %q, want the Bearer challenge", method, path, res.Header.Get("WWW-Authenticate"))
	}
	if ct := res.Header.Get("Content-Type"); res.Code >= 400 && !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("%s %s: error status %d with Content-Type %q, want the JSON envelope", method, path, res.Code, ct)
	}
	return res
}

type session struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	} `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// register signs up a user of role (buyer or producer) and returns the session.
func (e *env) register(email, role string) session {
	e.t.Helper()
	res := e.do("POST", "/api/v1/auth/register", map[string]string{
		"email": email, "password": "correct horse battery", "name": "Test " + role, "role": role})
	if res.Code != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", email, res.Code, res.Body)
	}
	var s session
	res.decode(e.t, &s)
	return s
}

// staff creates an auditor or admin directly through the service, as the CLI does.
func (e *env) staff(email, role string) session {
	e.t.Helper()
	ctx := e.t.Context()
	if _, err := e.auth.CreateUser(ctx, auth.NewUser{Email: email, Password: "correct horse battery", Name: "Staff", Role: models.Role(role)}); err != nil {
		e.t.Fatal(err)
	}
	res := e.do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse battery"})
	res.wantStatus(e.t, http.StatusOK)
	var s session
	res.decode(e.t, &s)
	return s
}

// testLedgerKey signs the test ledgers' checkpoints.
var testLedgerKey = ed25519.NewKeyFromSeed([]byte("karigar test ledger signing seed"))

// testPII is the fixed key the tests seal personal data with.
var testPII = func() *pii.Box {
	b, err := pii.New([]byte("karigar test pii key, 32 bytes!!"))
	if err != nil {
		panic(err)
	}
	return b
}()
