package api_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
)

// One payout with an Idempotency-Key is one commit: the claim, the booking
// and the answer to replay together (issue 22), in few statements, and
// fewest after the chain's head is locked, since the group's payouts wait
// for each other there. Counted: the signed-in user's check, BEGIN, the
// claim, the manager and artisan checks, the answer, then the chain's lock,
// the booking and the payout's row, COMMIT. SQLite locks and books
// statement by statement (services/ledger/post_sqlite.go).
func TestPayoutStatements(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240})
		logged, log := models.LogStatements(e.db)
		w := testWiring()
		srv, _ := newServer(t, logged, w, api.Config{DB: logged, Logger: w.Logger})
		counted := *e
		counted.srv = srv
		pay := func(key string) {
			counted.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID,
				"amount": pkr(100), "method": "cash"}, bearer(f.manager.AccessToken), header("Idempotency-Key", key)).wantStatus(t, 201)
		}
		pay("first") // opens the platform's paid_out account: counted is the payout after it
		log.Reset()
		pay("counted")

		total, underLock := 10, 1
		if models.DialectOf(e.db) == models.SQLite {
			total, underLock = 14, 5
		}
		got := log.Entries()
		in, locked, outside := false, -1, 0
		for i, s := range got {
			switch {
			case s == "BEGIN":
				in = true
			case s == "COMMIT" || s == "ROLLBACK":
				in = false
			case !in && !strings.HasPrefix(s, "SELECT"):
				outside++ // a write in a commit of its own
			}
			if locked < 0 && strings.Contains(s, "ledger_chains") {
				locked = i
			}
		}
		afterLock := len(got) - 2 - locked // up to COMMIT, neither counted
		if log.Commits() != 1 || outside != 0 || len(got) > total || locked < 0 || afterLock > underLock {
			t.Fatalf("a payout sent %d statements (want at most %d), %d after the chain's lock (want at most %d), "+
				"in %d commits and %d writes outside them (want 1 and 0):\n%s",
				len(got), total, afterLock, underLock, log.Commits(), outside, strings.Join(got, "\n"))
		}
	})
}
