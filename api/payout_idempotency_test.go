package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

// The same payout sent six times at once under one key is paid once: the
// others wait on the claim taken in the payout's transaction and replay
// its answer, byte for byte, or are told it is still being processed.
func TestPayoutConcurrentSameKey(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240}) // Rs 1,000
		path := "/api/v1/groups/" + f.group.ID + "/payouts"
		body := map[string]any{"artisan_id": f.public.ID, "amount": pkr(30000), "method": "cash"}
		const n = 6
		res := make([]*response, n)
		inParallel(n, func(i int) {
			res[i] = e.do("POST", path, body, bearer(f.manager.AccessToken), header("Idempotency-Key", "same"))
		})
		var first *response
		for _, r := range res {
			switch {
			case r.Code == http.StatusCreated && r.Header.Get("Idempotent-Replayed") == "":
				if first != nil {
					t.Fatalf("paid twice: %s and %s", first.Body, r.Body)
				}
				first = r
			case r.Code == http.StatusCreated:
			case r.Code == http.StatusConflict:
				if msg := r.wantError(t, http.StatusConflict, "conflict").Error.Message; !strings.Contains(msg, "still being processed") {
					t.Fatalf("409 %q", msg)
				}
			default:
				t.Fatalf("unexpected %d %s", r.Code, r.Body)
			}
		}
		if first == nil {
			t.Fatal("no payout was made")
		}
		again := e.do("POST", path, body, bearer(f.manager.AccessToken), header("Idempotency-Key", "same"))
		again.wantStatus(t, http.StatusCreated)
		if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
			again.Header.Get("Location") != first.Header.Get("Location") {
			t.Fatalf("the retry is not the first answer replayed: %s, then %s", first.Body, again.Body)
		}
		if c := e.count("payouts", ""); c != 1 {
			t.Fatalf("%d payouts", c)
		}
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 70000 {
			t.Fatalf("payable %d, want 70000", got)
		}
	})
}

// A refused payout is refused again on its retry, even once the balance
// would afford it: the key answers what it answered.
func TestPayoutRefusalReplayed(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		artisan := ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240}
		sell(e, f.group.ID, 1, artisan) // Rs 1,000
		path := "/api/v1/groups/" + f.group.ID + "/payouts"
		body := map[string]any{"artisan_id": f.public.ID, "amount": pkr(150000), "method": "cash"}
		pay := func() *response {
			return e.do("POST", path, body, bearer(f.manager.AccessToken), header("Idempotency-Key", "too-much"))
		}
		refused := pay()
		refused.wantError(t, http.StatusConflict, "insufficient_funds")
		sell(e, f.group.ID, 1, artisan) // Rs 2,000 now
		again := pay()
		again.wantError(t, http.StatusConflict, "insufficient_funds")
		if string(again.Body) != string(refused.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the retry of a refusal is not its replay: %s", again.Body)
		}
		if c := e.count("payouts", ""); c != 0 {
			t.Fatalf("%d payouts", c)
		}
		body["amount"] = pkr(100)
		pay().wantError(t, http.StatusConflict, "idempotency_key_reused")
	})
}
