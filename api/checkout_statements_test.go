package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// One cash checkout of two lines from two groups is one transaction of the
// fewest statements that can do it: the idempotency claim, one guarded
// UPDATE taking the stock of every line and returning what the order
// freezes, one INSERT each for the order, its lines and its group parts,
// and the answer to replay; one commit, so one WAL flush.
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
		// BEGIN, claim, stock, order, lines, parts, answer, COMMIT.
		if tx := sent[max(begin, 0):]; len(tx) > 8 {
			t.Errorf("%d statements in the transaction, want at most 8", len(tx))
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
