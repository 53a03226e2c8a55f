package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/auth"
)

func TestRequestID(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("GET", "/healthz", nil)
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(res.Header.Get("X-Request-ID")) {
			t.Fatalf("generated X-Request-ID %q", res.Header.Get("X-Request-ID"))
		}
		res = e.do("GET", "/healthz", nil, header("X-Request-ID", "client-id-123"))
		if got := res.Header.Get("X-Request-ID"); got != "client-id-123" {
			t.Fatalf("echoed X-Request-ID %q", got)
		}
		// Header injection or absurd ids are replaced, not echoed.
		res = e.do("GET", "/healthz", nil, header("X-Request-ID", strings.Repeat("x", 300)))
		if got := res.Header.Get("X-Request-ID"); len(got) != 32 {
			t.Fatalf("overlong id echoed: %q", got)
		}
		// Errors carry it too.
		res = e.do("GET", "/api/v1/me", nil, header("X-Request-ID", "err-id"))
		if res.Code != http.StatusUnauthorized || res.Header.Get("X-Request-ID") != "err-id" {
			t.Fatalf("error response %d id %q", res.Code, res.Header.Get("X-Request-ID"))
		}
	})
}

func TestUnknownRoutesAndMethodsAreJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("GET", "/api/v1/nothing-here", nil).wantError(t, http.StatusNotFound, "not_found")
		e.do("GET", "/nothing-here", nil).wantError(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/auth/login", nil).wantError(t, http.StatusMethodNotAllowed, "method_not_allowed")
	})
}

func TestSecurityHeaders(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, path := range []string{"/healthz", "/api/v1/me", "/api/v1/missing"} {
			res := e.do("GET", path, nil)
			for k, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "no-referrer",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: %s = %q, want %q", path, k, got, want)
				}
			}
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", path, res.Header.Get("Content-Security-Policy"))
			}
		}
		if hsts := e.do("GET", "/healthz", nil).Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("HSTS %q outside production", hsts)
		}
	})
}

func TestHSTSInProduction(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		if e.do("GET", "/healthz", nil).Header.Get("Strict-Transport-Security") == "" {
			t.Fatal("no HSTS in production")
		}
	}, func(c envConfig) { c.api.Production = true })
}

func TestCORS(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		pre := func(origin string) *response {
			return e.do("OPTIONS", "/api/v1/auth/login", nil, header("Origin", origin), header("Access-Control-Request-Method", "POST"),
				header("Access-Control-Request-Headers", "Content-Type, Idempotency-Key"))
		}
		res := pre("https://shop.karigar.pk")
		if res.Code != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://shop.karigar.pk" {
			t.Fatalf("allowed origin preflight: %d %v", res.Code, res.Header)
		}
		if !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
			t.Fatalf("Idempotency-Key not allowed: %q", res.Header.Get("Access-Control-Allow-Headers"))
		}
		res = pre("https://evil.example")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("disallowed origin was allowed: %v", res.Header)
		}
		// A plain request from a disallowed origin is answered, without the header the browser needs.
		res = e.do("GET", "/healthz", nil, header("Origin", "https://evil.example"))
		if res.Code != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("disallowed origin GET: %d %v", res.Code, res.Header)
		}
		res = e.do("GET", "/healthz", nil, header("Origin", "https://shop.karigar.pk"))
		if res.Header.Get("Access-Control-Allow-Origin") != "https://shop.karigar.pk" {
			t.Fatalf("allowed origin GET: %v", res.Header)
		}
	}, func(c envConfig) { c.api.CORSOrigins = []string{"https://shop.karigar.pk"} })
}

func TestHealthAndReadiness(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("GET", "/healthz", nil).wantStatus(t, http.StatusOK)
		e.do("GET", "/readyz", nil).wantStatus(t, http.StatusOK)
		if err := models.Close(e.db); err != nil {
			t.Fatal(err)
		}
		e.do("GET", "/readyz", nil).wantError(t, http.StatusServiceUnavailable, "unavailable")
		e.do("GET", "/healthz", nil).wantStatus(t, http.StatusOK)
	})
}

func TestMetrics(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("GET", "/healthz", nil)
		e.do("GET", "/api/v1/me", nil)
		res := e.do("GET", "/metrics", nil)
		res.wantStatus(t, http.StatusOK)
		body := string(res.Body)
		for _, want := range []string{
			`karigar_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1`,
			`karigar_http_request_duration_seconds_count{method="GET",route="/api/v1/me",status="401"} 1`,
			`go_sql_max_open_connections{db_name="karigar"}`,
			`go_sql_in_use_connections{db_name="karigar"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		body := map[string]string{"email": "idem@ngo.pk", "password": goodPassword, "name": "Idem", "role": "auditor"}
		key := header("Idempotency-Key", "create-auditor-1")

		first := e.do("POST", "/api/v1/admin/users", body, bearer(admin.AccessToken), key)
		first.wantStatus(t, http.StatusCreated)
		again := e.do("POST", "/api/v1/admin/users", body, bearer(admin.AccessToken), key)
		again.wantStatus(t, http.StatusCreated)
		if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
		}
		if n := e.count("users", "email = ?", "idem@ngo.pk"); n != 1 {
			t.Fatalf("%d users created, want 1", n)
		}

		other := map[string]string{"email": "other@ngo.pk", "password": goodPassword, "name": "O", "role": "auditor"}
		e.do("POST", "/api/v1/admin/users", other, bearer(admin.AccessToken), key).
			wantError(t, http.StatusConflict, "idempotency_key_reused")
		if e.count("users", "email = ?", "other@ngo.pk") != 0 {
			t.Fatal("a reused key still created the user")
		}

		// Keys belong to a user: another admin may use the same key for its own request.
		admin2 := e.staff("admin2@example.pk", "admin")
		e.do("POST", "/api/v1/admin/users", other, bearer(admin2.AccessToken), key).wantStatus(t, http.StatusCreated)

		// Client errors are replayed too: the request did not change, nor will its answer.
		bad := map[string]string{"email": "nope", "password": goodPassword, "name": "N", "role": "auditor"}
		k2 := header("Idempotency-Key", "bad-one")
		e.do("POST", "/api/v1/admin/users", bad, bearer(admin.AccessToken), k2).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		res := e.do("POST", "/api/v1/admin/users", bad, bearer(admin.AccessToken), k2)
		res.wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		if res.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("422 was not replayed")
		}

		for _, k := range []string{strings.Repeat("k", 256), "has space", "tab\tkey"} {
			e.do("POST", "/api/v1/admin/users", body, bearer(admin.AccessToken), header("Idempotency-Key", k)).
				wantError(t, http.StatusBadRequest, "bad_request")
		}
	})
}

// Concurrent retries with one key: the request runs once; the others are
// told it is in progress (409 conflict) or get the first answer replayed; a
// retry after it finished gets the replay.
func TestIdempotencyKeyConcurrentRetries(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		body := map[string]string{"email": "race@ngo.pk", "password": goodPassword, "name": "Race", "role": "auditor"}
		const n = 6
		res := make([]*response, n)
		inParallel(n, func(i int) {
			res[i] = e.do("POST", "/api/v1/admin/users", body, bearer(admin.AccessToken), header("Idempotency-Key", "same"))
		})
		var first *response
		for _, r := range res {
			switch {
			case r.Code == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "":
				if first != nil {
					t.Fatalf("the request ran twice: %s and %s", first.Body, r.Body)
				}
				first = r
			case r.Code == http.StatusCreated: // a replay
			case r.Code == http.StatusConflict:
				// Only "in progress" is acceptable; "email taken" would mean the request ran again.
				if msg := r.wantError(t, http.StatusConflict, "conflict").Error.Message; !strings.Contains(msg, "still being processed") {
					t.Fatalf("409 %q: the request ran more than once", msg)
				}
			default:
				t.Fatalf("unexpected %d %s", r.Code, r.Body)
			}
		}
		if first == nil {
			t.Fatal("no request ran")
		}
		again := e.do("POST", "/api/v1/admin/users", body, bearer(admin.AccessToken), header("Idempotency-Key", "same"))
		again.wantStatus(t, http.StatusCreated)
		if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry after the race was not the replay of the first answer: %s", again.Body)
		}
		if c := e.count("users", "email = ?", "race@ngo.pk"); c != 1 {
			t.Fatalf("%d users", c)
		}
	})
}

// Sign-in responses hold fresh tokens: they are never stored for replay.
func TestIdempotencyKeyIsNotStoredForAuthRoutes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("tokens@example.pk", "buyer")
		key := header("Idempotency-Key", "login-1")
		creds := map[string]string{"email": "tokens@example.pk", "password": goodPassword}
		var a, b session
		e.do("POST", "/api/v1/auth/login", creds, bearer(s.AccessToken), key).decode(t, &a)
		e.do("POST", "/api/v1/auth/login", creds, bearer(s.AccessToken), key).decode(t, &b)
		if a.RefreshToken == "" || a.RefreshToken == b.RefreshToken {
			t.Fatal("a login response was replayed")
		}
		if n := e.count("idempotency_keys", ""); n != 0 {
			t.Fatalf("%d idempotency rows stored for sign-in routes", n)
		}
	})
}

func TestNoHTMLRedirects(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("GET", "/healthz/", nil).wantError(t, http.StatusNotFound, "not_found")
		e.do("POST", "/api/v1/auth/login/", map[string]string{}).wantError(t, http.StatusNotFound, "not_found")
	})
}

func TestHEADProbes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("HEAD", "/healthz", nil).wantStatus(t, http.StatusOK)
		e.do("HEAD", "/readyz", nil).wantStatus(t, http.StatusOK)
	})
}

// A 429 did not run the request, so it is not what a retry with the same key
// should get back once the window has passed.
func TestIdempotencyKeyDoesNotKeepRateLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("limited@example.pk", "buyer")
		bad := map[string]string{"email": "limited@example.pk", "password": "guess guess guess"}
		for i := 0; i < 2; i++ {
			e.do("POST", "/api/v1/auth/login", bad).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		res := e.do("POST", "/api/v1/auth/login", bad, bearer(s.AccessToken), header("Idempotency-Key", "k-429"))
		res.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if e.count("idempotency_keys", "key = ?", "k-429") != 0 {
			t.Fatalf("the 429 was stored under its idempotency key")
		}
	}, withLimits(auth.Limits{PerEmail: 2}))
}
