package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/payments"
)

// One cash checkout of two lines from two groups is one transaction of the
// fewest statements that can do it: the idempotency claim, one guarded
// UPDATE taking the stock of every line and returning what the order
// freezes, then the order, its lines, its group parts and the answer to
// replay (one statement on PostgreSQL, four on SQLite); one commit, so one
// WAL flush.
func TestCheckoutStatements(t *testing.T) {
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		logged, log := models.LogStatements(db)
		e := newEnv(t, logged)
		f := newTwoGroups(e)
		body := orderBodyOf("cash_on_delivery", item(f.vase.ID, 2), item(f.basket.ID, 1))

		log.Reset()
		res := e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "one-commit"))
		res.wantStatus(t, http.StatusCreated)
		sent := log.Entries()
		t.Logf("%d statements:\n%s", len(sent), strings.Join(sent, "\n"))
		// Before the transaction only the sign-in check may run, a read
		// (which flushes no WAL); after its commit, nothing.
		begin := slices.Index(sent, "BEGIN")
		if begin < 0 || begin > 1 || (begin == 1 && !strings.HasPrefix(sent[0], "SELECT")) {
			t.Errorf("statements before the transaction: %q", sent[:max(begin, 0)])
		}
		if log.Commits() != 1 || sent[len(sent)-1] != "COMMIT" {
			t.Errorf("want one commit, last; got %d commits", log.Commits())
		}
		// BEGIN, claim, stock, order, lines, parts, answer, COMMIT; on
		// PostgreSQL the order, its lines, its parts and the answer are one
		// statement.
		ceiling := 8
		if models.DialectOf(db) == models.Postgres {
			ceiling = 5
		}
		if tx := sent[max(begin, 0):]; len(tx) > ceiling {
			t.Errorf("%d statements in the transaction, want at most %d", len(tx), ceiling)
		}
		if e.stock(f.vase.ID) != 3 || e.stock(f.basket.ID) != 4 {
			t.Errorf("stock %d %d", e.stock(f.vase.ID), e.stock(f.basket.ID))
		}

		log.Reset()
		again := e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "one-commit"))
		again.wantStatus(t, http.StatusCreated)
		if string(again.Body) != string(res.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the retry was not the replay:\n%s\n%s", res.Body, again.Body)
		}
		if e.stock(f.vase.ID) != 3 || e.count("orders", "1 = 1") != 1 {
			t.Errorf("the replay took stock or made an order")
		}
	})
}

// The checkout's claim is taken in its booking transaction: retries at once
// under one key make one order and replay it; a refusal is replayed.
func TestCheckoutClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		body := orderBodyOf("cash_on_delivery", item(f.vase.ID, 1), item(f.basket.ID, 1))
		const n = 6
		res := make([]*response, n)
		inParallel(n, func(i int) {
			res[i] = e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "same"))
		})
		fresh := 0
		for _, r := range res {
			r.wantStatus(t, http.StatusCreated)
			if r.Header.Get("Idempotent-Replayed") == "" {
				fresh++
			}
			if string(r.Body) != string(res[0].Body) {
				t.Errorf("answers differ:\n%s\n%s", res[0].Body, r.Body)
			}
		}
		if fresh != 1 || e.count("orders", "1 = 1") != 1 || e.stock(f.vase.ID) != 4 || e.stock(f.basket.ID) != 4 {
			t.Fatalf("%d fresh answers, %d orders, stock %d %d", fresh, e.count("orders", "1 = 1"), e.stock(f.vase.ID), e.stock(f.basket.ID))
		}

		short := orderBodyOf("cash_on_delivery", item(f.basket.ID, 1), item(f.vase.ID, 5))
		first := e.do("POST", "/api/v1/orders", short, bearer(f.buyer.AccessToken), header("Idempotency-Key", "short"))
		first.wantError(t, http.StatusConflict, "insufficient_stock")
		e.do("POST", "/api/v1/orders/"+e.lastOrder(t)+"/cancel", nil, bearer(f.buyer.AccessToken)).wantStatus(t, http.StatusOK)
		again := e.do("POST", "/api/v1/orders", short, bearer(f.buyer.AccessToken), header("Idempotency-Key", "short"))
		again.wantError(t, http.StatusConflict, "insufficient_stock")
		if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) {
			t.Errorf("the refusal was not replayed: %s", again.Body)
		}
		e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(f.vase.ID, 2)), bearer(f.buyer.AccessToken),
			header("Idempotency-Key", "short")).wantError(t, http.StatusConflict, "idempotency_key_reused")
	})
}

// A claim committed without its answer (a replica that died between a
// card order's two commits) holds its key for the lease, then is taken
// over, and the stock is taken only once.
func TestCheckoutStaleClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		body := orderBodyOf("cash_on_delivery", item(f.vase.ID, 1))
		e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "stale")).
			wantStatus(t, http.StatusCreated)
		unanswer := func(age time.Duration) {
			t.Helper()
			if err := e.db.Exec("UPDATE idempotency_keys SET status = 0, response_body = NULL, created_at = ? WHERE key = ?",
				time.Now().UTC().Add(-age), "stale").Error; err != nil {
				t.Fatal(err)
			}
		}

		unanswer(time.Second)
		e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "stale")).
			wantError(t, http.StatusConflict, "conflict")
		if e.stock(f.vase.ID) != 4 || e.count("orders", "1 = 1") != 1 {
			t.Fatalf("a claim within its lease let a booking through: stock %d, %d orders", e.stock(f.vase.ID), e.count("orders", "1 = 1"))
		}

		unanswer(idempotency.Lease + time.Minute)
		taken := e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "stale"))
		taken.wantStatus(t, http.StatusCreated)
		if taken.Header.Get("Idempotent-Replayed") != "" || e.stock(f.vase.ID) != 3 || e.count("orders", "1 = 1") != 2 {
			t.Fatalf("the stale claim was not taken over once: stock %d, %d orders", e.stock(f.vase.ID), e.count("orders", "1 = 1"))
		}
		again := e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "stale"))
		if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(taken.Body) {
			t.Errorf("the taken-over claim's answer is not replayed: %s", again.Body)
		}
	})
}

func (e *env) lastOrder(t *testing.T) string {
	t.Helper()
	var id string
	if err := e.db.Table("orders").Select("id").Order("created_at DESC, id DESC").Limit(1).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// A card order's answer, with its client secret, is replayed; a payment
// that could not start leaves the key free, so the retry places the order.
func TestCardCheckoutClaim(t *testing.T) {
	failing := &failingIntents{}
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		body := orderBodyOf("card", item(f.vase.ID, 1))
		o := e.order(f.buyer, "card", body)
		again := e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "card"))
		var replayed orderBody
		again.decode(t, &replayed)
		if again.Header.Get("Idempotent-Replayed") != "true" || replayed.ID != o.ID || replayed.Payment.ClientSecret != o.Payment.ClientSecret ||
			replayed.Payment.ProviderRef == "" || e.count("orders", "1 = 1") != 1 {
			t.Fatalf("card replay %+v of %+v", replayed, o)
		}

		failing.fail.Store(true)
		e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", "card-2")).
			wantError(t, http.StatusServiceUnavailable, "unavailable")
		if e.stock(f.vase.ID) != 4 {
			t.Fatalf("stock %d after a payment that could not start", e.stock(f.vase.ID))
		}
		failing.fail.Store(false)
		if retried := e.order(f.buyer, "card-2", body); retried.ID == o.ID || e.stock(f.vase.ID) != 3 {
			t.Fatalf("the retry after the failure: %+v, stock %d", retried, e.stock(f.vase.ID))
		}
	}, withStripe(t), func(c envConfig) { failing.Provider = c.wiring.Payments; c.wiring.Payments = failing })
}

// failingIntents is a provider whose intents cannot be created while fail is set.
type failingIntents struct {
	payments.Provider
	fail atomic.Bool
}

func (p *failingIntents) CreateIntent(ctx context.Context, id uuid.UUID, amount int64, currency string) (payments.Intent, error) {
	if p.fail.Load() {
		return payments.Intent{}, errors.New("the provider cannot be reached")
	}
	return p.Provider.CreateIntent(ctx, id, amount, currency)
}
