package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

type accountBody struct {
	ID          string  `json:"id"`
	OwnerKind   string  `json:"owner_kind"`
	OwnerID     *string `json:"owner_id"`
	ArtisanName *string `json:"artisan_name"`
	Type        string  `json:"type"`
	Balance     money   `json:"balance"`
}

type payoutBody struct {
	ID             string  `json:"id"`
	ArtisanID      string  `json:"artisan_id"`
	Amount         money   `json:"amount"`
	AcknowledgedAt *string `json:"acknowledged_at"`
}

type distributionBody struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	Amount money  `json:"amount"`
	Parts  []struct {
		ArtisanID string `json:"artisan_id"`
		Weight    int64  `json:"weight"`
		Amount    money  `json:"amount"`
	} `json:"parts"`
}

// ledgerOf is the server's ledger service, for booking what the API cannot.
func ledgerOf(e *env) *ledger.Service { return e.ledger }

// sell books a paid card order of qty units of the contract's example
// product (Rs 3,000; 4 h at Rs 250; materials 500, packaging 50) made by
// the given makers, as the orders service will.
func sell(e *env, groupID string, qty int64, makers ...ledger.MakerMinutes) uuid.UUID {
	e.t.Helper()
	order := models.NewID()
	g := uuid.MustParse(groupID)
	sale := ledger.Sale{OrderID: order, Currency: "PKR", Lines: []ledger.SaleLine{{Line: 1, ProductID: models.NewID(), GroupID: g,
		Quantity: qty, Makers: makers, Unit: pricing.Inputs{Price: 300000, Materials: 50000, Packaging: 5000, HourlyWage: 25000,
			PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000}}}}
	if err := e.db.Transaction(func(tx *gorm.DB) error { _, err := ledgerOf(e).BookSale(tx, sale); return err }); err != nil {
		e.t.Fatal(err)
	}
	return order
}

func (e *env) accounts(groupID string, s session) map[string]int64 {
	e.t.Helper()
	var l listBody[accountBody]
	res := e.do("GET", "/api/v1/groups/"+groupID+"/ledger/accounts", nil, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusOK)
	res.decode(e.t, &l)
	out := map[string]int64{}
	for _, a := range l.Data {
		k := a.Type
		if a.OwnerID != nil && a.OwnerKind == "artisan" {
			k = *a.OwnerID + ":" + a.Type
		}
		out[k] = a.Balance.Amount
	}
	return out
}

func TestPayoutsAndAcknowledgements(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		pub := uuid.MustParse(f.public.ID)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240}) // her labour: Rs 1,000
		path := "/api/v1/groups/" + f.group.ID + "/payouts"
		body := map[string]any{"artisan_id": f.public.ID, "amount": pkr(40000), "method": "jazzcash", "reference": "JC-123"}
		key := func(k string) reqOption { return header("Idempotency-Key", k) }

		e.do("POST", path, body, key("k0")).wantError(t, 401, "unauthorized")
		e.do("POST", path, body, bearer(f.buyer.AccessToken), key("k1")).wantError(t, 403, "forbidden")
		e.do("POST", path, body, bearer(f.auditor.AccessToken), key("k2")).wantError(t, 403, "forbidden")
		e.do("POST", path, body, bearer(f.other.AccessToken), key("k3")).wantError(t, 404, "not_found")
		e.do("POST", path, body, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		for _, bad := range []struct {
			field string
			body  map[string]any
		}{
			{"amount.amount", map[string]any{"artisan_id": f.public.ID, "amount": pkr(0), "method": "cash"}},
			{"amount.currency", map[string]any{"artisan_id": f.public.ID, "amount": map[string]any{"amount": 100, "currency": "USD"}, "method": "cash"}},
			{"method", map[string]any{"artisan_id": f.public.ID, "amount": pkr(100), "method": "paypal"}},
			{"artisan_id", map[string]any{"artisan_id": uuid.NewString(), "amount": pkr(100), "method": "cash"}},
		} {
			res := e.do("POST", path, bad.body, bearer(f.manager.AccessToken), key("bad-"+bad.field))
			if e := res.wantError(t, 422, "validation_failed"); e.Error.Fields[bad.field] == "" {
				t.Errorf("%s: fields %v", bad.field, e.Error.Fields)
			}
		}

		var p payoutBody
		res := e.do("POST", path, body, bearer(f.manager.AccessToken), key("pay-1"))
		res.wantStatus(t, 201)
		res.decode(t, &p)
		var again payoutBody
		res = e.do("POST", path, body, bearer(f.manager.AccessToken), key("pay-1"))
		res.wantStatus(t, 201)
		res.decode(t, &again)
		if again.ID != p.ID || res.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a retried payout paid again: %s then %s", p.ID, again.ID)
		}
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 100000-40000 {
			t.Fatalf("payable after a payout: %d", got)
		}
		body["amount"] = pkr(60001)
		if e := e.do("POST", path, body, bearer(f.manager.AccessToken), key("pay-2")).wantError(t, 409, "insufficient_funds"); e.Error.Message == "" {
			t.Fatal("no message")
		}
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 60000 {
			t.Fatalf("a refused payout changed the payable: %d", got)
		}

		ack := "/api/v1/payouts/" + p.ID + "/acknowledge"
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		note := map[string]any{"note": "she confirmed by phone"}
		e.do("POST", ack, note, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", ack, note, bearer(f.admin.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", ack, note, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("POST", "/api/v1/payouts/"+uuid.NewString()+"/acknowledge", note, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found")
		res = e.do("POST", ack, note, bearer(f.auditor.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &p)
		if p.AcknowledgedAt == nil {
			t.Fatal("not acknowledged")
		}
		e.do("POST", ack, note, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
	})
}

// A payout retried with its key after the replay store lost its record
// (expired, or never completed because the server died after the commit)
// is still paid once; the same key for another payout is refused.
func TestPayoutRetriedWithoutItsReplayRecord(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240}) // Rs 1,000
		path := "/api/v1/groups/" + f.group.ID + "/payouts"
		body := map[string]any{"artisan_id": f.public.ID, "amount": pkr(30000), "method": "cash"}
		pay := func(body map[string]any) *response {
			e.db.Exec("DELETE FROM idempotency_keys")
			return e.do("POST", path, body, bearer(f.manager.AccessToken), header("Idempotency-Key", "cash-1"))
		}
		var first, again payoutBody
		res := pay(body)
		res.wantStatus(t, 201)
		res.decode(t, &first)
		res = pay(body)
		res.wantStatus(t, 201)
		res.decode(t, &again)
		if again.ID != first.ID || e.count("payouts", "") != 1 || e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"] != 70000 {
			t.Fatalf("paid again: %s then %s, %d payouts", first.ID, again.ID, e.count("payouts", ""))
		}
		body["amount"] = pkr(20000)
		pay(body).wantError(t, 409, "idempotency_key_reused")
		if e.count("payouts", "") != 1 {
			t.Fatal("a reused key paid")
		}
	})
}

// Twenty payouts at once from one balance through the API: exactly the
// affordable ones are paid.
func TestConcurrentPayouts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240}) // Rs 1,000
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID,
					"amount": pkr(30000), "method": "cash"}, bearer(f.manager.AccessToken), header("Idempotency-Key", fmt.Sprint("c", i)))
				mu.Lock()
				codes[res.Code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[201] != 3 || codes[409] != 17 {
			t.Fatalf("status codes %v, want 3 × 201 and 17 × 409", codes)
		}
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 10000 {
			t.Fatalf("payable %d, want 10000", got)
		}
	})
}

func TestDistributions(t *testing.T) {
	for _, method := range []string{"labor_hours", "units_made", "equal"} {
		t.Run(method, func(t *testing.T) {
			eachDB(t, func(t *testing.T, e *env) {
				f := newCatalogFixture(e)
				e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": method,
					"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
				pub, priv := uuid.MustParse(f.public.ID), uuid.MustParse(f.private.ID)
				// Sale 1: 2 units, 180 + 60 minutes each. Sale 2: 1 unit, all 240 minutes hers (private).
				sell(e, f.group.ID, 2, ledger.MakerMinutes{ArtisanID: pub, Minutes: 180}, ledger.MakerMinutes{ArtisanID: priv, Minutes: 60})
				sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: priv, Minutes: 240})
				// Each unit leaves the group margin shown, 84800, and the card fee estimate, 9000, as
				// no fee was paid: 3 units.
				const margin = 3 * 93800
				path := "/api/v1/groups/" + f.group.ID + "/distributions"
				e.do("POST", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
				e.do("POST", path, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
				e.do("POST", path, map[string]any{"until": "2999-01-01T00:00:00Z"}, bearer(f.manager.AccessToken)).
					wantError(t, 422, "validation_failed")

				var d distributionBody
				res := e.do("POST", path, nil, bearer(f.manager.AccessToken))
				res.wantStatus(t, 201)
				res.decode(t, &d)
				want := map[string]int64{
					"labor_hours": 2 * 180, // public: 360 minutes; private 2×60 + 240 = 360
					"units_made":  2,       // public: 2 units; private 3
					"equal":       1,       // one each
				}[method]
				wantPriv := map[string]int64{"labor_hours": 360, "units_made": 3, "equal": 1}[method]
				var sum int64
				parts := map[string]int64{}
				for _, p := range d.Parts {
					sum += p.Amount.Amount
					parts[p.ArtisanID] = p.Amount.Amount
					w := map[string]int64{f.public.ID: want, f.private.ID: wantPriv}[p.ArtisanID]
					if p.Weight != w {
						t.Errorf("%s weight %d, want %d", p.ArtisanID, p.Weight, w)
					}
				}
				if d.Amount.Amount != margin || sum != margin || d.Method != method {
					t.Fatalf("distributed %d in parts summing to %d, want %d", d.Amount.Amount, sum, margin)
				}
				// The parts are proportional to the weights, the odd paisa to the larger remainder.
				wantPub := margin * want / (want + wantPriv)
				if parts[f.public.ID] < wantPub || parts[f.public.ID] > wantPub+1 {
					t.Errorf("public part %d, want about %d", parts[f.public.ID], wantPub)
				}
				accounts := e.accounts(f.group.ID, f.manager)
				labour := map[string]int64{f.public.ID: 2 * 75000, f.private.ID: 2*25000 + 100000}
				for _, id := range []string{f.public.ID, f.private.ID} {
					if accounts[id+":payable"] != labour[id]+parts[id] {
						t.Errorf("%s payable %d, want labour %d + part %d", id, accounts[id+":payable"], labour[id], parts[id])
					}
				}
				if accounts["undistributed_margin"] != 0 {
					t.Errorf("undistributed left %d", accounts["undistributed_margin"])
				}
				e.do("POST", path, nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
			})
		})
	}
}

func TestLedgerReadsAndRoles(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		pub := uuid.MustParse(f.public.ID)
		for range 3 {
			sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		}
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		accounts := "/api/v1/groups/" + f.group.ID + "/ledger/accounts"
		e.do("GET", accounts, nil).wantError(t, 401, "unauthorized")
		e.do("GET", accounts, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", accounts, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		for _, s := range []session{f.manager, f.auditor, f.admin} {
			if a := e.accounts(f.group.ID, s); a[f.public.ID+":payable"] != 300000 || a["undistributed_margin"] != 3*93800 {
				t.Errorf("accounts %v", a)
			}
		}

		list := func(s session, q string) listBody[struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Postings []struct {
				Amount money `json:"amount"`
			} `json:"postings"`
		}] {
			t.Helper()
			var l listBody[struct {
				ID       string `json:"id"`
				Kind     string `json:"kind"`
				Postings []struct {
					Amount money `json:"amount"`
				} `json:"postings"`
			}]
			res := e.do("GET", "/api/v1/ledger/transactions?"+q, nil, bearer(s.AccessToken))
			res.wantStatus(t, 200)
			res.decode(t, &l)
			return l
		}
		seen := map[string]bool{}
		cursor := ""
		for range 5 {
			q := "limit=2&group_id=" + f.group.ID
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			l := list(f.manager, q)
			for _, tr := range l.Data {
				var sum int64
				for _, p := range tr.Postings {
					sum += p.Amount.Amount
				}
				if seen[tr.ID] || tr.Kind != "sale" || sum != 0 || len(tr.Postings) < 5 {
					t.Errorf("transaction %+v", tr)
				}
				seen[tr.ID] = true
			}
			if l.NextCursor == nil {
				break
			}
			cursor = *l.NextCursor
		}
		if len(seen) != 3 || len(list(f.auditor, "").Data) != 3 {
			t.Fatalf("paged through %d transactions", len(seen))
		}
		tx := "/api/v1/ledger/transactions"
		e.do("GET", tx, nil, bearer(f.manager.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", tx+"?group_id="+f.group.ID, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", tx, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", tx+"?from=yesterday", nil, bearer(f.auditor.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", tx+"?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, bearer(f.auditor.AccessToken)).
			wantError(t, 422, "validation_failed")
		e.do("GET", tx+"?group_id="+f.group.ID+"&cursor=abc", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		if l := list(f.auditor, "to=2000-01-01T00:00:00Z"); len(l.Data) != 0 {
			t.Errorf("a period before the sales holds %d", len(l.Data))
		}

		var st struct {
			Earned       map[string]money `json:"earned"`
			PaidOut      money            `json:"paid_out"`
			Balance      money            `json:"balance"`
			MinutesWork  int64            `json:"minutes_worked"`
			Acknowledged money            `json:"acknowledged"`
		}
		statement := "/api/v1/artisans/" + f.public.ID + "/statement"
		e.do("GET", statement, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", statement, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", statement+"?to=x", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		res := e.do("GET", statement, nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &st)
		if st.Earned["sale"].Amount != 300000 || st.Balance.Amount != 300000 || st.MinutesWork != 720 || st.PaidOut.Amount != 0 {
			t.Errorf("statement %+v", st)
		}
	})
}

type verification struct {
	OK                  bool   `json:"ok"`
	TransactionsChecked int    `json:"transactions_checked"`
	TrialBalanceOK      bool   `json:"trial_balance_ok"`
	HeadHash            string `json:"head_hash"`
	FirstBadTransaction *struct {
		ID      string `json:"id"`
		Problem string `json:"problem"`
	} `json:"first_bad_transaction"`
	Checkpoints []struct {
		OK      bool   `json:"ok"`
		Problem string `json:"problem"`
	} `json:"checkpoints"`
}

// An auditor verifies the books and keeps a checkpoint; an edit made
// directly in the database, triggers disabled, is found and named, and the
// kept checkpoint no longer verifies.
func TestLedgerAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		pub := uuid.MustParse(f.public.ID)
		for range 3 {
			sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		}
		auditor := bearer(f.auditor.AccessToken)
		for _, p := range []string{"/api/v1/audit/ledger/verify", "/api/v1/audit/ledger/checkpoint"} {
			e.do("GET", p, nil, bearer(f.manager.AccessToken)).wantError(t, 403, "forbidden")
			e.do("GET", p, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		}
		var v verification
		e.do("GET", "/api/v1/audit/ledger/verify", nil, auditor).decode(t, &v)
		if !v.OK || v.TransactionsChecked != 3 || !v.TrialBalanceOK || len(v.HeadHash) != 64 {
			t.Fatalf("clean books: %+v", v)
		}
		var cp map[string]any
		res := e.do("GET", "/api/v1/audit/ledger/checkpoint", nil, auditor)
		res.wantStatus(t, 200)
		res.decode(t, &cp)
		if cp["head_hash"] != v.HeadHash || cp["sequence"].(float64) != 3 {
			t.Fatalf("checkpoint %v vs verify %+v", cp, v)
		}
		var key struct {
			PublicKey string `json:"public_key"`
		}
		e.do("GET", "/api/v1/audit/ledger/public-key", nil).decode(t, &key)
		if key.PublicKey == "" {
			t.Fatal("no public key")
		}
		verifyWith := func(cps ...map[string]any) verification {
			t.Helper()
			var out verification
			res := e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": cps}, auditor)
			res.wantStatus(t, 200)
			res.decode(t, &out)
			return out
		}
		if got := verifyWith(cp); !got.OK || len(got.Checkpoints) != 1 || !got.Checkpoints[0].OK {
			t.Fatalf("kept checkpoint: %+v", got)
		}
		forged := map[string]any{}
		for k, val := range cp {
			forged[k] = val
		}
		forged["sequence"] = 2
		if got := verifyWith(forged); got.OK || got.Checkpoints[0].OK {
			t.Fatalf("a forged checkpoint verified: %+v", got)
		}
		e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{}}, auditor).wantError(t, 422, "validation_failed")
		e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{map[string]any{"sequence": 1,
			"head_hash": "zz", "created_at": "2026-01-01T00:00:00Z", "signature": "!"}}}, auditor).wantError(t, 422, "validation_failed")

		// Someone with the database raises one posting of the second sale, triggers disabled.
		var target models.LedgerTransaction
		if err := e.db.Order("chain_seq").Offset(1).First(&target).Error; err != nil {
			t.Fatal(err)
		}
		err := e.db.Transaction(func(tx *gorm.DB) error {
			if models.DialectOf(tx) == models.Postgres {
				if err := tx.Exec("SET LOCAL session_replication_role = replica").Error; err != nil {
					return err
				}
			} else if err := tx.Exec("DROP TRIGGER ledger_postings_no_update").Error; err != nil {
				return err
			}
			return tx.Exec("UPDATE ledger_postings SET amount = amount + 100 WHERE transaction_id = ? AND position = 2", target.ID).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		e.do("GET", "/api/v1/audit/ledger/verify", nil, auditor).decode(t, &v)
		if v.OK || v.FirstBadTransaction == nil || v.FirstBadTransaction.ID != target.ID.String() || v.TrialBalanceOK {
			t.Fatalf("tampered books: %+v", v)
		}
		if got := verifyWith(cp); got.OK || got.Checkpoints[0].OK {
			t.Fatalf("the checkpoint still verifies over an altered chain: %+v", got)
		}
	})
}

// The attack of issue 15: two artisans' payable accounts swap owners in
// SQL, so that one woman's earnings show as the other's. Verify (GET, and
// POST with a checkpoint kept before) fails and names the first sale
// hashed with the account and the account; so does a changed account type.
func TestLedgerAuditFindsChangedAccountOwner(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		pub, priv := uuid.MustParse(f.public.ID), uuid.MustParse(f.private.ID)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: pub, Minutes: 240})
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: priv, Minutes: 60})
		auditor := bearer(f.auditor.AccessToken)
		var cp map[string]any
		e.do("GET", "/api/v1/audit/ledger/checkpoint", nil, auditor).decode(t, &cp)
		var first models.LedgerTransaction
		if err := e.db.Where("chain_key = ?", f.group.ID).Order("chain_seq").First(&first).Error; err != nil {
			t.Fatal(err)
		}
		payable := func(artisan uuid.UUID) models.LedgerAccount {
			var a models.LedgerAccount
			if err := e.db.First(&a, "owner_id = ? AND type = ?", artisan, ledger.TypePayable).Error; err != nil {
				t.Fatal(err)
			}
			return a
		}
		pa, pb := payable(pub), payable(priv)
		before := e.accounts(f.group.ID, f.manager)
		exec := func(stmts ...string) {
			t.Helper()
			for _, s := range stmts {
				if err := e.db.Exec(s).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		spare := models.NewID()
		exec(fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", spare, pa.ID),
			fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", pub, pb.ID),
			fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", priv, pa.ID))
		if after := e.accounts(f.group.ID, f.manager); after[f.public.ID+":payable"] != before[f.private.ID+":payable"] {
			t.Fatalf("the swap did not move the balances: %v then %v", before, after)
		}

		type badAccount struct {
			ID        string `json:"id"`
			OwnerKind string `json:"owner_kind"`
			OwnerID   string `json:"owner_id"`
			Type      string `json:"type"`
			Problem   string `json:"problem"`
		}
		type found struct {
			verification
			FirstBadAccount *badAccount `json:"first_bad_account"`
		}
		check := func(what string, v found) {
			t.Helper()
			if v.OK || v.FirstBadTransaction == nil || v.FirstBadTransaction.ID != first.ID.String() || !v.TrialBalanceOK {
				t.Errorf("%s: %+v", what, v.verification)
			}
			if v.FirstBadAccount == nil || v.FirstBadAccount.ID != pa.ID.String() || v.FirstBadAccount.Problem == "" {
				t.Errorf("%s: names account %+v, want %s", what, v.FirstBadAccount, pa.ID)
			}
		}
		var v found
		res := e.do("GET", "/api/v1/audit/ledger/verify", nil, auditor)
		res.wantStatus(t, 200)
		res.decode(t, &v)
		check("swapped owners", v)
		if v.FirstBadAccount != nil && v.FirstBadAccount.OwnerID != f.private.ID {
			t.Errorf("the account is shown as it now reads: %+v", v.FirstBadAccount)
		}
		v = found{}
		res = e.do("POST", "/api/v1/audit/ledger/verify", map[string]any{"checkpoints": []any{cp}}, auditor)
		res.wantStatus(t, 200)
		res.decode(t, &v)
		check("swapped owners, with a checkpoint", v)
		if len(v.Checkpoints) != 1 {
			t.Errorf("checkpoints: %+v", v.Checkpoints)
		}

		exec(fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", spare, pa.ID),
			fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", priv, pb.ID),
			fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", pub, pa.ID))
		v = found{}
		e.do("GET", "/api/v1/audit/ledger/verify", nil, auditor).decode(t, &v)
		if !v.OK || v.FirstBadAccount != nil {
			t.Fatalf("owners restored: %+v %+v", v.verification, v.FirstBadAccount)
		}

		exec(fmt.Sprintf("UPDATE ledger_accounts SET type = 'undistributed_margin' WHERE id = '%s'", pa.ID))
		e.do("GET", "/api/v1/audit/ledger/verify", nil, auditor).decode(t, &v)
		check("changed type", v)
	})
}
