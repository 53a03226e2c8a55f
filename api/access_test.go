package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/auth"
)

// from sends the request as if from the client address ip.
func from(ip string) reqOption {
	return func(r *http.Request) { r.RemoteAddr = ip + ":40000" }
}

func (e *env) login(email, password string, opts ...reqOption) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, opts...)
}

type userBody struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	DisabledAt *time.Time `json:"disabled_at"`
}

func TestDisableUser(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		s := e.register("gul@example.pk", "buyer")
		e.do("GET", "/api/v1/orders", nil, bearer(s.AccessToken)).wantStatus(t, http.StatusOK)

		res := e.do("POST", "/api/v1/admin/users/"+s.User.ID+"/disable", nil, bearer(admin.AccessToken))
		res.wantStatus(t, http.StatusOK)
		var u userBody
		res.decode(t, &u)
		if u.ID != s.User.ID || u.DisabledAt == nil {
			t.Fatalf("disabled user %+v", u)
		}

		// The access token issued before is refused at once, on every route.
		e.do("GET", "/api/v1/orders", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/products", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		// The right password says the account is disabled; a wrong one says no more than ever.
		if msg := e.login("gul@example.pk", goodPassword).wantError(t, http.StatusUnauthorized, "unauthorized").Error.Message; !strings.Contains(msg, "disabled") {
			t.Fatalf("login of a disabled account: %q", msg)
		}
		wrong := e.login("gul@example.pk", "not the password").wantError(t, http.StatusUnauthorized, "unauthorized")
		if strings.Contains(wrong.Error.Message, "disabled") {
			t.Fatalf("a wrong password learns the account is disabled: %q", wrong.Error.Message)
		}
		// Disabling twice is the same as once.
		e.do("POST", "/api/v1/admin/users/"+s.User.ID+"/disable", nil, bearer(admin.AccessToken)).wantStatus(t, http.StatusOK)

		res = e.do("POST", "/api/v1/admin/users/"+s.User.ID+"/enable", nil, bearer(admin.AccessToken))
		res.wantStatus(t, http.StatusOK)
		u = userBody{} // disabled_at is left out, not null, when there is none
		res.decode(t, &u)
		if u.ID != s.User.ID || u.DisabledAt != nil {
			t.Fatalf("enabled user still disabled: %+v", u)
		}
		login := e.login("gul@example.pk", goodPassword)
		login.wantStatus(t, http.StatusOK)
		var again session
		login.decode(t, &again)
		e.do("GET", "/api/v1/me", nil, bearer(again.AccessToken)).wantStatus(t, http.StatusOK)
		// Tokens from before the disabling stay dead: enabling is not an amnesty.
		e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

func TestDisableUserRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		buyer := e.register("b@example.pk", "buyer")
		auditor := e.staff("aud@example.pk", "auditor")
		for _, action := range []string{"disable", "enable", "password-reset"} {
			t.Run(action, func(t *testing.T) {
				path := "/api/v1/admin/users/" + buyer.User.ID + "/" + action
				e.do("POST", path, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
				e.do("POST", path, nil, bearer(buyer.AccessToken)).wantError(t, http.StatusForbidden, "forbidden")
				e.do("POST", path, nil, bearer(auditor.AccessToken)).wantError(t, http.StatusForbidden, "forbidden")
				e.do("POST", "/api/v1/admin/users/"+uuid.NewString()+"/"+action, nil, bearer(admin.AccessToken)).
					wantError(t, http.StatusNotFound, "not_found")
				e.do("POST", "/api/v1/admin/users/not-a-uuid/"+action, nil, bearer(admin.AccessToken)).
					wantError(t, http.StatusBadRequest, "bad_request")
			})
		}
		// An admin cannot lock themself out.
		e.do("POST", "/api/v1/admin/users/"+admin.User.ID+"/disable", nil, bearer(admin.AccessToken)).
			wantError(t, http.StatusConflict, "conflict")
		e.do("GET", "/api/v1/me", nil, bearer(admin.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", "/api/v1/me", nil, bearer(buyer.AccessToken)).wantStatus(t, http.StatusOK)
	})
}

// Another admin can disable an admin, whose admin token then stops working.
func TestDisableAnotherAdmin(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		first := e.staff("first@example.pk", "admin")
		second := e.staff("second@example.pk", "admin")
		e.do("POST", "/api/v1/admin/users/"+second.User.ID+"/disable", nil, bearer(first.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("POST", "/api/v1/admin/users/"+first.User.ID+"/disable", nil, bearer(second.AccessToken)).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/me", nil, bearer(first.AccessToken)).wantStatus(t, http.StatusOK)
	})
}

type resetBody struct {
	ResetToken string    `json:"reset_token"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (e *env) issueReset(admin session, userID string) resetBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/admin/users/"+userID+"/password-reset", nil, bearer(admin.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	var r resetBody
	res.decode(e.t, &r)
	return r
}

func TestPasswordReset(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		s := e.register("nasreen@example.pk", "producer")
		other := e.login("nasreen@example.pk", goodPassword) // a second session, on another device
		var second session
		other.decode(t, &second)

		r := e.issueReset(admin, s.User.ID)
		if len(r.ResetToken) < 32 {
			t.Fatalf("reset token %q is too short to be unguessable", r.ResetToken)
		}
		if d := time.Until(r.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
			t.Fatalf("expires_at %v is not 24 hours away", r.ExpiresAt)
		}
		if n := e.count("password_resets", "token_hash = ?", r.ResetToken); n != 0 {
			t.Fatal("the reset token is stored as it was handed out")
		}
		// Nor is it kept for an Idempotency-Key replay: a retry gets a new one.
		retry := func() resetBody {
			res := e.do("POST", "/api/v1/admin/users/"+s.User.ID+"/password-reset", nil, bearer(admin.AccessToken), header("Idempotency-Key", "reset-1"))
			res.wantStatus(t, http.StatusCreated)
			var b resetBody
			res.decode(t, &b)
			return b
		}
		if retry().ResetToken == retry().ResetToken || e.count("idempotency_keys", "") != 0 {
			t.Fatal("a reset token was stored for replay")
		}
		r = e.issueReset(admin, s.User.ID)
		// Issuing the reset changes nothing yet: the user may still be signed in.
		e.do("GET", "/api/v1/me", nil, bearer(s.AccessToken)).wantStatus(t, http.StatusOK)

		// Bad input consumes nothing.
		e.do("POST", "/api/v1/auth/password-reset", rawBody(`{"reset_token": "x",`)).wantError(t, http.StatusBadRequest, "bad_request")
		e.do("POST", "/api/v1/auth/password-reset", rawBody(`{"reset_token": "x", "new_password": "a long password", "email": "x"}`)).
			wantError(t, http.StatusBadRequest, "bad_request")
		short := e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": r.ResetToken, "new_password": "short"})
		if short.wantError(t, http.StatusUnprocessableEntity, "validation_failed").Error.Fields["new_password"] == "" {
			t.Fatalf("no field error for new_password: %s", short.Body)
		}
		e.do("POST", "/api/v1/auth/password-reset", map[string]string{"new_password": "a new long password"}).
			wantError(t, http.StatusUnprocessableEntity, "validation_failed")

		e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": r.ResetToken, "new_password": "a new long password"}).
			wantStatus(t, http.StatusNoContent)

		// Every session ends: refresh tokens of both families and the access tokens issued before.
		for _, rt := range []string{s.RefreshToken, second.RefreshToken} {
			e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": rt}).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		for _, at := range []string{s.AccessToken, second.AccessToken} {
			e.do("GET", "/api/v1/me", nil, bearer(at)).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		e.login("nasreen@example.pk", goodPassword).wantError(t, http.StatusUnauthorized, "unauthorized")
		login := e.login("nasreen@example.pk", "a new long password")
		login.wantStatus(t, http.StatusOK)
		var fresh session
		login.decode(t, &fresh)
		e.do("GET", "/api/v1/me", nil, bearer(fresh.AccessToken)).wantStatus(t, http.StatusOK)

		// One use only, and a made-up token is no better.
		used := e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": r.ResetToken, "new_password": "a third long password"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		unknown := e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": "made-up-token", "new_password": "a third long password"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		if used.Error.Message != unknown.Error.Message {
			t.Fatalf("messages tell a used token from an unknown one: %q vs %q", used.Error.Message, unknown.Error.Message)
		}
		e.login("nasreen@example.pk", "a new long password").wantStatus(t, http.StatusOK)
	})
}

// A newer reset replaces an older one that was not used.
func TestPasswordResetSupersedesTheLastOne(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		s := e.register("rubina@example.pk", "buyer")
		old := e.issueReset(admin, s.User.ID)
		latest := e.issueReset(admin, s.User.ID)
		e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": old.ResetToken, "new_password": "a new long password"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": latest.ResetToken, "new_password": "a new long password"}).
			wantStatus(t, http.StatusNoContent)
	})
}

func TestPasswordResetExpires(t *testing.T) {
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		s := e.register("late@example.pk", "buyer")
		r := e.issueReset(admin, s.User.ID)
		mu.Lock()
		clock = clock.Add(24*time.Hour + time.Second)
		mu.Unlock()
		e.do("POST", "/api/v1/auth/password-reset", map[string]string{"reset_token": r.ResetToken, "new_password": "a new long password"}).
			wantError(t, http.StatusUnauthorized, "unauthorized")
		e.login("late@example.pk", goodPassword).wantStatus(t, http.StatusOK)
	}, withClock(now))
}

// Racing uses of one reset token: exactly one sets the password.
func TestPasswordResetRaceHasOneWinner(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		s := e.register("race@example.pk", "buyer")
		r := e.issueReset(admin, s.User.ID)
		const n = 6
		codes := make([]int, n)
		inParallel(n, func(i int) {
			codes[i] = e.do("POST", "/api/v1/auth/password-reset",
				map[string]string{"reset_token": r.ResetToken, "new_password": "racing password " + string(rune('a'+i))}).Code
		})
		won := -1
		for i, c := range codes {
			switch c {
			case http.StatusNoContent:
				if won >= 0 {
					t.Fatalf("two resets with one token succeeded: %v", codes)
				}
				won = i
			case http.StatusUnauthorized:
			default:
				t.Fatalf("unexpected status in %v", codes)
			}
		}
		if won < 0 {
			t.Fatalf("no reset succeeded: %v", codes)
		}
		e.login("race@example.pk", "racing password "+string(rune('a'+won))).wantStatus(t, http.StatusOK)
	})
}

// Five wrong passwords from one address throttle that address for that
// email; the owner, from an address that has not been failing, still gets in.
func TestLoginThrottlingSparesTheOwner(t *testing.T) {
	const attacker, owner = "203.0.113.9", "198.51.100.7"
	eachDB(t, func(t *testing.T, e *env) {
		e.register("owner@example.pk", "buyer")
		for i := 0; i < 5; i++ {
			e.login("owner@example.pk", "guess guess guess", from(attacker)).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		res := e.login("owner@example.pk", "guess guess guess", from(attacker))
		res.wantError(t, http.StatusTooManyRequests, "rate_limited")
		if ra := res.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After = %q", ra)
		}
		// Even the right password from the failing address waits.
		e.login("owner@example.pk", goodPassword, from(attacker)).wantError(t, http.StatusTooManyRequests, "rate_limited")

		e.login("owner@example.pk", goodPassword, from(owner)).wantStatus(t, http.StatusOK)
		// The owner's own typo is counted for the owner's address only.
		e.login("owner@example.pk", "a typo typo", from(owner)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.login("owner@example.pk", goodPassword, from(owner)).wantStatus(t, http.StatusOK)
		// The owner signing in clears nothing for the attacker.
		e.login("owner@example.pk", "guess guess guess", from(attacker)).wantError(t, http.StatusTooManyRequests, "rate_limited")
	})
}

// Addresses of one IPv6 /64 are one client: a host holds the whole /64.
func TestLoginThrottlingCountsAnIPv6Prefix(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("v6@example.pk", "buyer")
		for i := 0; i < 5; i++ {
			e.login("v6@example.pk", "guess guess guess", func(r *http.Request) {
				r.RemoteAddr = "[2001:db8:1:2::" + string(rune('a'+i)) + "]:40000"
			}).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		e.login("v6@example.pk", "guess guess guess", func(r *http.Request) { r.RemoteAddr = "[2001:db8:1:2:ffff::1]:40000" }).
			wantError(t, http.StatusTooManyRequests, "rate_limited")
		e.login("v6@example.pk", goodPassword, func(r *http.Request) { r.RemoteAddr = "[2001:db8:1:3::1]:40000" }).
			wantStatus(t, http.StatusOK)
	})
}

// One address spraying many emails is stopped by the per-address limit;
// other addresses are not.
func TestLoginThrottlingPerAddressAcrossEmails(t *testing.T) {
	const sprayer = "203.0.113.50"
	eachDB(t, func(t *testing.T, e *env) {
		e.register("someone@example.pk", "buyer")
		for i := 0; i < 6; i++ {
			e.login(uuid.NewString()+"@example.pk", "guess guess guess", from(sprayer)).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
		e.login("someone@example.pk", "guess guess guess", from(sprayer)).wantError(t, http.StatusTooManyRequests, "rate_limited")
		e.login("someone@example.pk", goodPassword, from(sprayer)).wantError(t, http.StatusTooManyRequests, "rate_limited")
		e.login("someone@example.pk", goodPassword, from("198.51.100.8")).wantStatus(t, http.StatusOK)
	}, withLimits(auth.Limits{PerClientIP: 6}))
}

// A token whose user was deleted is no identity, on every route.
func TestDeletedUsersToken401(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		vase := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)
		s := e.register("deleted@example.pk", "buyer")
		if err := e.db.Exec("DELETE FROM users WHERE id = ?", s.User.ID).Error; err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(vase.ID, 1)),
			bearer(s.AccessToken), header("Idempotency-Key", "k-1")).wantError(t, http.StatusUnauthorized, "unauthorized")
		if e.stock(vase.ID) != 5 {
			t.Fatal("a deleted user's order took stock")
		}
		e.do("GET", "/api/v1/orders", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("GET", "/api/v1/products", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.do("POST", "/api/v1/auth/logout", nil, bearer(s.AccessToken)).wantError(t, http.StatusUnauthorized, "unauthorized")
	})
}

// A refresh racing the disabling: whatever the order, no token it minted
// works afterwards.
func TestDisableRacingRefresh(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		admin := e.staff("admin@example.pk", "admin")
		for trial := 0; trial < 4; trial++ {
			email := uuid.NewString() + "@example.pk"
			s := e.register(email, "buyer")
			var minted session
			var disabled, refreshed *response
			inParallel(2, func(i int) { // only e.do here: failing a test belongs to its own goroutine
				if i == 0 {
					disabled = e.do("POST", "/api/v1/admin/users/"+s.User.ID+"/disable", nil, bearer(admin.AccessToken))
				} else {
					refreshed = e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken})
				}
			})
			disabled.wantStatus(t, http.StatusOK)
			if refreshed.Code == http.StatusOK {
				refreshed.decode(t, &minted)
			} else {
				refreshed.wantError(t, http.StatusUnauthorized, "unauthorized")
			}
			for _, at := range []string{s.AccessToken, minted.AccessToken} {
				if at != "" {
					e.do("GET", "/api/v1/me", nil, bearer(at)).wantError(t, http.StatusUnauthorized, "unauthorized")
				}
			}
			if minted.RefreshToken != "" {
				e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": minted.RefreshToken}).
					wantError(t, http.StatusUnauthorized, "unauthorized")
			}
		}
	})
}
