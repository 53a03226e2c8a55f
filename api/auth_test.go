package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services/auth"
)

const goodPassword = "correct horse battery"

func TestRegister201(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("POST", "/api/v1/auth/register", map[string]string{
			"email": "  Ayesha@Example.PK ", "password": goodPassword, "name": "Ayesha", "role": "producer"})
		res.wantStatus(t, http.StatusCreated)
		var s session
		res.decode(t, &s)
		if s.User.Email != "ayesha@example.pk" || s.User.Role != "producer" || s.User.Name != "Ayesha" {
			t.Fatalf("user %+v", s.User)
		}
		if id, err := uuid.Parse(s.User.ID); err != nil || id.Version() != 7 {
			t.Fatalf("user id %q is not a UUIDv7", s.User.ID)
		}
		if s.AccessToken == "" || s.RefreshToken == "" || s.ExpiresIn != 900 {
			t.Fatalf("session %+v", s)
		}
		if strings.Contains(string(res.Body), "password") {
			t.Fatalf("response mentions the password: %s", res.Body)
		}

		me := e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken))
		me.wantStatus(t, http.StatusOK)
		var u struct{ ID, Email, Role string }
		me.decode(t, &u)
		if u.ID != s.User.ID || u.Role != "producer" {
			t.Fatalf("/me = %+v", u)
		}
	})
}

func TestRegisterDefaultsToBuyer(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("POST", "/api/v1/auth/register", map[string]string{"email": "b@example.pk", "password": goodPassword, "name": "B"})
		res.wantStatus(t, http.StatusCreated)
		var s session
		res.decode(t, &s)
		if s.User.Role != "buyer" {
			t.Fatalf("role %q, want buyer", s.User.Role)
		}
	})
}

func TestRegister409DuplicateEmail(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("dup@example.pk", "buyer")
		res := e.do("POST", "/api/v1/auth/register", map[string]string{"email": "DUP@example.pk", "password": goodPassword, "name": "Again"})
		res.wantError(t, http.StatusConflict, "conflict")
	})
}

func TestRegister422(t *testing.T) {
	tests := []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"short password", map[string]string{"email": "a@example.pk", "password": "short", "name": "A"}, "password"},
		{"password over 72 bytes", map[string]string{"email": "a@example.pk", "password": strings.Repeat("x", 73), "name": "A"}, "password"},
		{"bad email", map[string]string{"email": "not-an-email", "password": goodPassword, "name": "A"}, "email"},
		{"email with display name", map[string]string{"email": "A <a@example.pk>", "password": goodPassword, "name": "A"}, "email"},
		{"missing name", map[string]string{"email": "a@example.pk", "password": goodPassword, "name": "  "}, "name"},
		{"admin role", map[string]string{"email": "a@example.pk", "password": goodPassword, "name": "A", "role": "admin"}, "role"},
		{"auditor role", map[string]string{"email": "a@example.pk", "password": goodPassword, "name": "A", "role": "auditor"}, "role"},
		{"unknown role", map[string]string{"email": "a@example.pk", "password": goodPassword, "name": "A", "role": "king"}, "role"},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.do("POST", "/api/v1/auth/register", tt.body)
				apiErr := res.wantError(t, http.StatusUnprocessableEntity, "validation_failed")
				if apiErr.Error.Fields[tt.field] == "" {
					t.Fatalf("fields %v, want one for %q", apiErr.Error.Fields, tt.field)
				}
			})
		}
		if n := e.count("users", ""); n != 0 {
			t.Fatalf("%d users written by invalid requests", n)
		}
	})
}

func TestRegister400(t *testing.T) {
	tests := []struct {
		name string
		body rawBody
		opts []reqOption
		want string
	}{
		{"malformed JSON", `{"email": "a@example.pk",`, nil, "not valid JSON"},
		{"not an object", `["a"]`, nil, "JSON object"},
		{"wrong type", `{"email": 42, "password": "x", "name": "A"}`, nil, "field email must be a string"},
		{"unknown field", `{"email": "a@example.pk", "password": "correct horse battery", "name": "A", "is_admin": true}`, nil, "unknown field"},
		{"two objects", `{} {}`, nil, "single JSON object"},
		{"empty body", ``, nil, "empty"},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := e.do("POST", "/api/v1/auth/register", tt.body, tt.opts...)
				apiErr := res.wantError(t, http.StatusBadRequest, "bad_request")
				if !strings.Contains(apiErr.Error.Message, tt.want) {
					t.Fatalf("message %q does not say %q", apiErr.Error.Message, tt.want)
				}
			})
		}
	})
}

func TestRegister413(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		big := `{"email": "a@example.pk", "password": "correct horse battery", "name": "` + strings.Repeat("a", 1<<20) + `"}`
		e.do("POST", "/api/v1/auth/register", rawBody(big)).wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")

		// Without Content-Length the limit still holds while reading.
		res := e.do("POST", "/api/v1/auth/register", rawBody(big), func(r *http.Request) { r.ContentLength = -1 })
		res.wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
}

func TestLogin(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("login@example.pk", "buyer")
		res := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "LOGIN@example.pk", "password": goodPassword})
		res.wantStatus(t, http.StatusOK)
		var s session
		res.decode(t, &s)
		if s.User.Email != "login@example.pk" || s.AccessToken == "" || s.RefreshToken == "" {
			t.Fatalf("session %+v", s)
		}

		wrong := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "login@example.pk", "password": "wrong password!"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		unknown := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.pk", "password": "wrong password!"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		if wrong.Error.Message != unknown.Error.Message {
			t.Fatalf("messages differ, which tells whether the email exists: %q vs %q", wrong.Error.Message, unknown.Error.Message)
		}
		e.do("POST", "/api/v1/auth/login", map[string]string{"email": "login@example.pk"}).
			wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	})
}

func TestLogin429AfterRepeatedFailures(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("victim@example.pk", "buyer")
		bad := map[string]string{"email": "victim@example.pk", "password": "guess guess guess"}
		for i := 0; i < 5; i++ {
			e.do("POST", "/api/v1/auth/login", bad).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		res := e.do("POST", "/api/v1/auth/login", bad)
		res.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After = %q", ra)
		}
		if p, rl := res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"); p != `"login-email";q=5;w=900` ||
			rl != `"login-email";r=0;t=`+res.Header.Get("Retry-After") {
			t.Fatalf("RateLimit-Policy %q, RateLimit %q", p, rl)
		}
		// Locked out even with the right password: the limit is checked first.
		e.do("POST", "/api/v1/auth/login", map[string]string{"email": "victim@example.pk", "password": goodPassword}).
			wantError(t, http.StatusTooManyRequests, "rate_limited")
		// Another account from another address is not affected.
		e.register("other@example.pk", "buyer")
		e.do("POST", "/api/v1/auth/login", map[string]string{"email": "other@example.pk", "password": goodPassword},
			func(r *http.Request) { r.RemoteAddr = "198.51.100.7:5000" }).wantStatus(t, http.StatusOK)
	})
}

func TestLogin429PerClientAddress(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// Spraying many emails from one address trips the per-address limit.
		for i := 0; i < 8; i++ {
			e.do("POST", "/api/v1/auth/login", map[string]string{"email": uuid.NewString() + "@example.pk", "password": "guess guess guess"}).
				wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		res := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "fresh@example.pk", "password": "guess guess guess"})
		res.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if p := res.Header.Get("RateLimit-Policy"); p != `"login-address";q=8;w=900` {
			t.Fatalf("RateLimit-Policy %q", p)
		}
	}, withLimits(auth.Limits{PerClientIP: 8}))
}

func TestRefreshRotates(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("r@example.pk", "buyer")
		res := e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken})
		res.wantStatus(t, http.StatusOK)
		var next session
		res.decode(t, &next)
		if next.RefreshToken == s.RefreshToken || next.AccessToken == "" {
			t.Fatalf("refresh did not rotate: %+v", next)
		}
		e.do("GET", "/api/v1/me", nil, bearer(next.AccessToken)).wantStatus(t, http.StatusOK)
		// The next token rotates again.
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": next.RefreshToken}).wantStatus(t, http.StatusOK)
	})
}

func TestRefresh401ReuseRevokesTheFamily(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("reuse@example.pk", "buyer")
		res := e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken})
		res.wantStatus(t, http.StatusOK)
		var stolen session
		res.decode(t, &stolen)

		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		// The thief's (or owner's) newer token of the same family is dead too.
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": stolen.RefreshToken}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		// A separate sign-in is another family and still works.
		login := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "reuse@example.pk", "password": goodPassword})
		login.wantStatus(t, http.StatusOK)
		var other session
		login.decode(t, &other)
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": other.RefreshToken}).wantStatus(t, http.StatusOK)
	})
}

func TestRefreshRaceHasOneWinner(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("race@example.pk", "buyer")
		const n = 8
		codes := make([]int, n)
		inParallel(n, func(i int) {
			codes[i] = e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).Code
		})
		ok := 0
		for _, c := range codes {
			if c == http.StatusOK {
				ok++
			} else if c != http.StatusUnauthorized {
				t.Fatalf("unexpected status %d in %v", c, codes)
			}
		}
		if ok != 1 {
			t.Fatalf("%d refreshes of one token succeeded, want exactly 1: %v", ok, codes)
		}
	})
}

func TestRefresh401And422(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": "made-up"}).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("POST", "/api/v1/auth/refresh", map[string]string{}).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
	})
}

func TestRefresh401Expired(t *testing.T) {
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("old@example.pk", "buyer")
		mu.Lock()
		clock = clock.Add(31 * 24 * time.Hour)
		mu.Unlock()
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).wantError(t, http.StatusUnauthorized, "unauthorized")
		// The access token issued a month ago is long expired too.
		e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
	}, withClock(now))
}

func TestLogoutRevokesTheFamily(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("out@example.pk", "buyer")
		e.do("POST", "/api/v1/auth/logout", map[string]string{"refresh_token": s.RefreshToken}, bearer(s.AccessToken)).
			wantStatus(t, http.StatusNoContent)
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestLogoutWithoutBodyRevokesEverySession(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("all@example.pk", "buyer")
		login := e.do("POST", "/api/v1/auth/login", map[string]string{"email": "all@example.pk", "password": goodPassword})
		var second session
		login.decode(t, &second)
		e.do("POST", "/api/v1/auth/logout", nil, bearer(s.AccessToken)).wantStatus(t, http.StatusNoContent)
		for _, rt := range []string{s.RefreshToken, second.RefreshToken} {
			e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": rt}).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
	})
}

func TestLogoutCannotRevokeSomeoneElsesToken(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		victim := e.register("victim2@example.pk", "buyer")
		attacker := e.register("attacker@example.pk", "buyer")
		e.do("POST", "/api/v1/auth/logout", map[string]string{"refresh_token": victim.RefreshToken}, bearer(attacker.AccessToken)).
			wantStatus(t, http.StatusNoContent)
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": victim.RefreshToken}).wantStatus(t, http.StatusOK)
	})
}

func TestLogout401Anonymous(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/api/v1/auth/logout", nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

func signed(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAccessToken401(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		s := e.register("tok@example.pk", "buyer")
		now := time.Now()
		good := jwt.MapClaims{"sub": s.User.ID, "role": "admin", "iss": "karigar", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		with := func(k string, v any) jwt.MapClaims {
			c := jwt.MapClaims{}
			for key, val := range good {
				c[key] = val
			}
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
			return c
		}
		// Sanity: the well-formed token is accepted, so each case fails for its own reason.
		e.do("GET", "/api/v1/me", nil, bearer(signed(t, jwt.SigningMethodHS256, testSecret, good))).wantStatus(t, http.StatusOK)

		tests := map[string]string{
			"alg none":        signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good),
			"forged secret":   signed(t, jwt.SigningMethodHS256, []byte("someone-elses-secret-someone-elses"), good),
			"HS512":           signed(t, jwt.SigningMethodHS512, testSecret, good),
			"expired":         signed(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-time.Minute).Unix())),
			"no expiry":       signed(t, jwt.SigningMethodHS256, testSecret, with("exp", nil)),
			"other issuer":    signed(t, jwt.SigningMethodHS256, testSecret, with("iss", "evil")),
			"bad subject":     signed(t, jwt.SigningMethodHS256, testSecret, with("sub", "me")),
			"unknown role":    signed(t, jwt.SigningMethodHS256, testSecret, with("role", "root")),
			"issued in 2099":  signed(t, jwt.SigningMethodHS256, testSecret, with("iat", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Unix())),
			"garbage":         "not.a.jwt",
			"tampered claims": tamper(signed(t, jwt.SigningMethodHS256, testSecret, with("role", "buyer"))),
		}
		for name, tok := range tests {
			t.Run(name, func(t *testing.T) {
				e.do("GET", "/api/v1/me", nil, bearer(tok)).wantError(t, http.StatusUnauthorized, "unauthorized")
			})
		}
		t.Run("basic scheme", func(t *testing.T) {
			e.do("GET", "/api/v1/me", nil, header("Authorization", "Basic dTpw")).wantError(t, http.StatusUnauthorized, "unauthorized")
		})
		t.Run("no token", func(t *testing.T) {
			e.do("GET", "/api/v1/me", nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		})
	})
}

// tamper swaps the payload for one claiming the admin role, keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	claims := `{"sub":"` + uuid.NewString() + `","role":"admin","iss":"karigar","exp":4102444800}`
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(claims))
	return strings.Join(parts, ".")
}

func TestAdminUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		res := e.do("POST", "/api/v1/admin/users", map[string]string{
			"email": "auditor@ngo.pk", "password": goodPassword, "name": "Auditor", "role": "auditor"}, bearer(admin.AccessToken))
		res.wantStatus(t, http.StatusCreated)
		var u struct{ Email, Role string }
		res.decode(t, &u)
		if u.Email != "auditor@ngo.pk" || u.Role != "auditor" {
			t.Fatalf("created %+v", u)
		}
		e.do("POST", "/api/v1/auth/login", map[string]string{"email": "auditor@ngo.pk", "password": goodPassword}).wantStatus(t, http.StatusOK)

		e.do("POST", "/api/v1/admin/users", map[string]string{"email": "b2@ngo.pk", "password": goodPassword, "name": "B", "role": "buyer"},
			bearer(admin.AccessToken)).wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		e.do("POST", "/api/v1/admin/users", map[string]string{"email": "auditor@ngo.pk", "password": goodPassword, "name": "A", "role": "auditor"},
			bearer(admin.AccessToken)).wantError(t, http.StatusConflict, "conflict")
	})
}

func TestAdminUsersRoles(t *testing.T) {
	body := map[string]string{"email": "x@ngo.pk", "password": goodPassword, "name": "X", "role": "auditor"}
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/api/v1/admin/users", body).wantError(t, http.StatusUnauthorized, "unauthorized")
		for _, role := range []string{"buyer", "producer"} {
			s := e.register(role+"@example.pk", role)
			e.do("POST", "/api/v1/admin/users", body, bearer(s.AccessToken)).wantError(t, http.StatusForbidden, "forbidden")
		}
		auditor := e.staff("aud@ngo.pk", "auditor")
		e.do("POST", "/api/v1/admin/users", body, bearer(auditor.AccessToken)).wantError(t, http.StatusForbidden, "forbidden")
		if e.count("users", "email = ?", "x@ngo.pk") != 0 {
			t.Fatal("a refused request created the user")
		}
	})
}

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

func TestControlCharacters(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("POST", "/api/v1/auth/register", rawBody(`{"email":"nul@example.pk","password":"correct horse battery","name":"A\u0000B"}`))
		if res.wantError(t, http.StatusUnprocessableEntity, "validation_failed").Error.Fields["name"] == "" {
			t.Fatal("no field error for name")
		}
		e.do("POST", "/api/v1/auth/register", rawBody(`{"email":"n\u0000ul@example.pk","password":"correct horse battery","name":"A"}`)).
			wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		e.do("POST", "/api/v1/auth/login", rawBody(`{"email":"a\u0000@example.pk","password":"correct horse battery"}`)).
			wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}
