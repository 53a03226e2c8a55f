package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/karigar/karigar/services/auth"
)

// Guesses sent in parallel must not slip past the limit: exactly the
// allowed number are checked, the rest are refused.
func TestLogin429UnderParallelGuessing(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("target@example.pk", "buyer")
		const n = 16
		codes := make([]int, n)
		inParallel(n, func(i int) {
			codes[i] = e.do("POST", "/api/v1/auth/login", map[string]string{"email": "target@example.pk", "password": "guess guess guess"}).Code
		})
		tally := map[int]int{}
		for _, c := range codes {
			tally[c]++
		}
		if tally[http.StatusUnauthorized] != 4 || tally[http.StatusTooManyRequests] != n-4 {
			t.Fatalf("with a limit of 4: %v", tally)
		}
	}, withLimits(auth.Limits{PerEmail: 4}))
}

// A successful login does not use up the shared address's allowance.
func TestLoginSuccessesDoNotCountAgainstTheAddress(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.register("office@example.pk", "buyer")
		for i := 0; i < 5; i++ {
			e.do("POST", "/api/v1/auth/login", map[string]string{"email": "office@example.pk", "password": goodPassword}).wantStatus(t, http.StatusOK)
		}
	}, withLimits(auth.Limits{PerClientIP: 3}))
}

// Reuse detection racing a refresh of the family's newest token: whatever
// the order, no token of the family works afterwards.
func TestRefreshReuseRacingRotation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for trial := 0; trial < 8; trial++ {
			s := e.register("thief"+string(rune('a'+trial))+"@example.pk", "buyer")
			var b session
			e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}).decode(t, &b)

			var wg sync.WaitGroup
			var fromB *response
			wg.Add(2)
			go func() {
				defer wg.Done()
				e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": s.RefreshToken}) // reuse of A
			}()
			go func() {
				defer wg.Done()
				fromB = e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": b.RefreshToken})
			}()
			wg.Wait()
			if fromB.Code == http.StatusOK {
				var c session
				fromB.decode(t, &c)
				e.do("POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": c.RefreshToken}).
					wantError(t, http.StatusUnauthorized, "unauthorized")
			}
		}
	})
}
