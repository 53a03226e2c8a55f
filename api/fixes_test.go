package api_test

import (
	"net/http"
	"testing"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/services/auth"
)

func TestMe401WhenTheAccountIsGone(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("gone@example.pk", "buyer")
		if err := e.db.Exec("DELETE FROM users WHERE email = ?", "gone@example.pk").Error; err != nil {
			t.Fatal(err)
		}
		e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestLogoutWithChunkedEmptyBody(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("chunk@example.pk", "buyer")
		e.do("POST", "/api/v1/auth/logout", rawBody(""), bearer(s.AccessToken), func(r *http.Request) { r.ContentLength = -1 }).
			wantStatus(t, http.StatusNoContent)
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).wantError(t, http.StatusUnauthorized, "unauthorized")
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

func withLimits(l auth.Limits) envOption {
	return func(o *auth.Options, _ *api.Config) { o.Limits = l }
}
