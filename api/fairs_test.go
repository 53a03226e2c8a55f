package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

type eventBody struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Stalls   []struct {
		GroupID          string     `json:"group_id"`
		GroupName        string     `json:"group_name"`
		RegisterClosedAt *time.Time `json:"register_closed_at"`
	} `json:"stalls"`
}

type stockLineBody struct {
	ProductID string `json:"product_id"`
	AtStall   int    `json:"at_stall"`
	MovedIn   int    `json:"moved_in"`
	Returned  int    `json:"returned"`
	Sold      int    `json:"sold"`
	Beyond    int    `json:"sold_beyond_stock"`
	Online    int    `json:"online_stock"`
}

type stallBody struct {
	GroupID string          `json:"group_id"`
	Stock   []stockLineBody `json:"stock"`
	Sales   struct {
		Count               int64 `json:"count"`
		Units               int64 `json:"units"`
		Total               money `json:"total"`
		NeedsReconciliation int64 `json:"needs_reconciliation"`
	} `json:"sales"`
	CashExpected money `json:"cash_expected"`
	Register     *struct {
		CashExpected  money   `json:"cash_expected"`
		CountedCash   money   `json:"counted_cash"`
		OverShort     money   `json:"over_short"`
		TransactionID *string `json:"transaction_id"`
	} `json:"register"`
}

type saleResultBody struct {
	ID                  string   `json:"id"`
	Status              string   `json:"status"`
	Total               money    `json:"total"`
	NeedsReconciliation bool     `json:"needs_reconciliation"`
	Reasons             []string `json:"reconciliation_reasons"`
}

type salesBody struct {
	Applied   int              `json:"applied"`
	Duplicate int              `json:"duplicate"`
	Sales     []saleResultBody `json:"sales"`
}

type eventReportBody struct {
	Stalls []struct {
		GroupID        string           `json:"group_id"`
		Sales          int64            `json:"sales"`
		Units          int64            `json:"units"`
		Total          money            `json:"total"`
		ByPayment      map[string]money `json:"by_payment"`
		CashExpected   money            `json:"cash_expected"`
		CountedCash    *money           `json:"counted_cash"`
		OverShort      *money           `json:"over_short"`
		CashAfterClose money            `json:"cash_after_close"`
		Products       []struct {
			ProductID string `json:"product_id"`
			MovedIn   int    `json:"moved_in"`
			Returned  int    `json:"returned"`
			AtStall   int    `json:"at_stall"`
			UnitsSold int    `json:"units_sold"`
			Beyond    int    `json:"sold_beyond_stock"`
			Sales     money  `json:"sales"`
		} `json:"products"`
		Artisans []struct {
			ArtisanID string `json:"artisan_id"`
			Earned    money  `json:"earned"`
			Minutes   int64  `json:"minutes_worked"`
			Units     int64  `json:"units"`
		} `json:"artisans"`
		GroupMargin    money `json:"group_margin"`
		CollectiveFund money `json:"collective_fund"`
		PlatformFee    money `json:"platform_fee"`
		Flagged        []struct {
			ID      string   `json:"id"`
			Reasons []string `json:"reconciliation_reasons"`
		} `json:"needs_reconciliation"`
	} `json:"stalls"`
	Totals struct {
		Total          money `json:"total"`
		OverShort      money `json:"over_short"`
		ArtisansEarned money `json:"artisans_earned"`
	} `json:"totals"`
}

// fairFixture is the contract's example product (Rs 3,000; Shazia 180 and
// Rukhsana 60 of its 240 minutes at Rs 250/h; fund 20%; fees 10% and 3%)
// with stock, in a verified group that has a stall at an event under way.
// One unit sold for cash books Rs 750 to Shazia, Rs 250 to Rukhsana, Rs 938
// group margin (the card fee estimate of Rs 90 stays with it), Rs 212 fund.
type fairFixture struct {
	catalogFixture
	vase  productBody
	event eventBody
}

func newFair(e *env, stock int) fairFixture {
	e.t.Helper()
	f, p := newExampleProduct(e)
	e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": stock}, bearer(f.manager.AccessToken)).wantStatus(e.t, 200)
	now := time.Now().UTC()
	ev := e.newEvent(f.manager, now.Add(-2*time.Hour), now.Add(48*time.Hour))
	e.do("POST", "/api/v1/events/"+ev.ID+"/stalls", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
		wantStatus(e.t, http.StatusCreated)
	return fairFixture{catalogFixture: f, vase: p, event: ev}
}

func (e *env) newEvent(s session, start, end time.Time) eventBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/events", map[string]any{"name": "Lok Virsa Crafts Mela", "venue": "Lok Virsa, Shakarparian",
		"district": "Islamabad", "starts_at": start.Format(time.RFC3339), "ends_at": end.Format(time.RFC3339)}, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	var ev eventBody
	res.decode(e.t, &ev)
	return ev
}

func (e *env) moveStock(s session, eventID, productID string, qty int, back bool) *response {
	e.t.Helper()
	path := "/api/v1/events/" + eventID + "/stock"
	if back {
		path += "/return"
	}
	return e.do("POST", path, map[string]any{"product_id": productID, "quantity": qty}, bearer(s.AccessToken))
}

func (e *env) stallOf(s session, eventID, groupID string) stallBody {
	e.t.Helper()
	res := e.do("GET", "/api/v1/events/"+eventID+"/stalls/"+groupID, nil, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusOK)
	var st stallBody
	res.decode(e.t, &st)
	return st
}

func fairSale(id string, at time.Time, payment string, items ...map[string]any) map[string]any {
	return map[string]any{"id": id, "recorded_at": at.UTC().Format(time.RFC3339Nano), "payment": payment, "items": items}
}

func fairItem(productID string, qty int) map[string]any {
	return map[string]any{"product_id": productID, "quantity": qty}
}

func (e *env) sendSales(s session, eventID string, sales ...map[string]any) *response {
	e.t.Helper()
	return e.do("POST", "/api/v1/events/"+eventID+"/sales", map[string]any{"sales": sales}, bearer(s.AccessToken))
}

func (e *env) recordSales(s session, eventID string, sales ...map[string]any) salesBody {
	e.t.Helper()
	res := e.sendSales(s, eventID, sales...)
	res.wantStatus(e.t, http.StatusOK)
	var out salesBody
	res.decode(e.t, &out)
	return out
}

func (e *env) eventReport(s session, eventID string) eventReportBody {
	e.t.Helper()
	res := e.do("GET", "/api/v1/events/"+eventID+"/report", nil, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusOK)
	var r eventReportBody
	res.decode(e.t, &r)
	return r
}

// fairBookings counts the ledger transactions booked for fair sales.
func (e *env) fairBookings() int64 {
	return e.count("ledger_transactions", "reference LIKE ?", "fair-sale:%")
}

// secondGroupProduct gives f.other a verified group with a published
// product and returns the product's id.
func secondGroupProduct(e *env, f catalogFixture) (groupBody, string) {
	e.t.Helper()
	g := e.newGroup(f.other, "Thar Basket Weavers", "Tharparkar", "sindh")
	e.verify(f.admin, g.ID)
	var a artisanBody
	res := e.do("POST", "/api/v1/groups/"+g.ID+"/artisans", map[string]any{"display_name": "Marvi",
		"full_name": "Marvi Secret-Surname", "district": "Tharparkar", "public_profile": true}, bearer(f.other.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	res.decode(e.t, &a)
	body := f.product("Date-palm basket", "basketry", 200000)
	body["makers"] = []map[string]any{{"artisan_id": a.ID, "labor_minutes": 240}}
	var p productBody
	res = e.do("POST", "/api/v1/groups/"+g.ID+"/products", body, bearer(f.other.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	res.decode(e.t, &p)
	e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.other.AccessToken)).wantStatus(e.t, http.StatusOK)
	return g, p.ID
}

func TestFairEventsAndStalls(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, _ := newExampleProduct(e)
		now := time.Now().UTC()
		body := func(start, end string) map[string]any {
			return map[string]any{"name": "Lok Virsa Crafts Mela", "venue": "Lok Virsa", "district": "Islamabad",
				"starts_at": start, "ends_at": end}
		}
		at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

		t.Run("create403", func(t *testing.T) {
			e.do("POST", "/api/v1/events", body(at(time.Hour), at(2*time.Hour)), bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
			// f.other manages only a pending group.
			e.do("POST", "/api/v1/events", body(at(time.Hour), at(2*time.Hour)), bearer(f.other.AccessToken)).wantError(t, 403, "forbidden")
			e.do("POST", "/api/v1/events", body(at(time.Hour), at(2*time.Hour))).wantError(t, 401, "unauthorized")
		})
		t.Run("create422", func(t *testing.T) {
			for name, c := range map[string]struct {
				body  map[string]any
				field string
			}{
				"ends before it starts": {body(at(2*time.Hour), at(time.Hour)), "ends_at"},
				"ends as it starts":     {body(at(time.Hour), at(time.Hour)), "ends_at"},
				"lasts a year":          {body(at(time.Hour), at(365*24*time.Hour)), "ends_at"},
				"no start":              {map[string]any{"name": "x", "venue": "y", "district": "z", "ends_at": at(time.Hour)}, "starts_at"},
				"no name":               {map[string]any{"name": " ", "venue": "y", "district": "z", "starts_at": at(0), "ends_at": at(time.Hour)}, "name"},
			} {
				res := e.do("POST", "/api/v1/events", c.body, bearer(f.manager.AccessToken))
				if er := res.wantError(t, 422, "validation_failed"); er.Error.Fields[c.field] == "" {
					t.Errorf("%s: fields %v", name, er.Error.Fields)
				}
			}
			e.do("POST", "/api/v1/events", body("tomorrow", at(time.Hour)), bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
			if n := e.count("fair_events", ""); n != 0 {
				t.Fatalf("%d events written by refused requests", n)
			}
		})

		current := e.newEvent(f.manager, now.Add(-time.Hour), now.Add(24*time.Hour))
		upcoming := e.newEvent(f.admin, now.Add(72*time.Hour), now.Add(96*time.Hour))
		past := e.newEvent(f.admin, now.Add(-96*time.Hour), now.Add(-72*time.Hour))
		t.Run("list", func(t *testing.T) {
			for status, want := range map[string][]string{"upcoming": {upcoming.ID}, "current": {current.ID}, "past": {past.ID},
				"": {upcoming.ID, current.ID, past.ID}} {
				var l listBody[eventBody]
				e.do("GET", "/api/v1/events?limit=2&status="+status, nil).decode(t, &l)
				var got []string
				for _, ev := range l.Data {
					got = append(got, ev.ID)
				}
				if l.NextCursor != nil {
					var more listBody[eventBody]
					e.do("GET", "/api/v1/events?limit=2&status="+status+"&cursor="+*l.NextCursor, nil).decode(t, &more)
					for _, ev := range more.Data {
						got = append(got, ev.ID)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("status %q: %v, want %v", status, got, want)
				}
			}
			e.do("GET", "/api/v1/events?status=soon", nil).wantError(t, 400, "bad_request")
		})

		stalls := "/api/v1/events/" + current.ID + "/stalls"
		t.Run("stalls", func(t *testing.T) {
			e.do("POST", stalls, map[string]any{"group_id": f.group.ID}, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
			e.do("POST", stalls, map[string]any{"group_id": f.pending.ID}, bearer(f.other.AccessToken)).wantError(t, 409, "invalid_state")
			e.do("POST", stalls, map[string]any{"group_id": f.group.ID}, bearer(f.admin.AccessToken)).wantError(t, 403, "forbidden")
			e.do("POST", stalls, map[string]any{"group_id": "nope"}, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
			e.do("POST", "/api/v1/events/"+past.ID+"/stalls", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
				wantError(t, 409, "invalid_state")
			e.do("POST", "/api/v1/events/"+uuid.NewString()+"/stalls", map[string]any{"group_id": f.group.ID},
				bearer(f.manager.AccessToken)).wantError(t, 404, "not_found")
			res := e.do("POST", stalls, map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken))
			res.wantStatus(t, http.StatusCreated)
			if res.Header.Get("Location") != stalls+"/"+f.group.ID {
				t.Errorf("Location %q", res.Header.Get("Location"))
			}
			e.do("POST", stalls, map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).wantError(t, 409, "conflict")

			var ev eventBody
			e.do("GET", "/api/v1/events/"+current.ID, nil).decode(t, &ev)
			if len(ev.Stalls) != 1 || ev.Stalls[0].GroupName != "Multan Blue Pottery Women" || ev.Stalls[0].RegisterClosedAt != nil {
				t.Errorf("event %+v", ev)
			}
			e.do("GET", "/api/v1/events/"+uuid.NewString(), nil).wantError(t, 404, "not_found")
			// The stall's books: its group's readers only.
			stall := stalls + "/" + f.group.ID
			e.do("GET", stall, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
			e.do("GET", stall, nil, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found")
			e.do("GET", stall, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
			e.do("GET", stall, nil).wantError(t, 401, "unauthorized")
			e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
			e.do("GET", stall, nil, bearer(f.auditor.AccessToken)).wantStatus(t, 200)
			e.do("GET", stall, nil, bearer(f.admin.AccessToken)).wantStatus(t, 200)
			e.do("GET", stalls+"/"+f.pending.ID, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		})
	})
}

// Stock moves to the stall and back all or nothing: a move beyond what
// either side holds changes nothing, and what comes back is on sale online
// again.
func TestFairStockMovesAllOrNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 5)
		_, basket := secondGroupProduct(e, f.catalogFixture)
		ev, p := f.event.ID, f.vase.ID

		var l stockLineBody
		res := e.moveStock(f.manager, ev, p, 3, false)
		res.wantStatus(t, 200)
		res.decode(t, &l)
		if l.AtStall != 3 || l.MovedIn != 3 || l.Online != 2 || e.stock(p) != 2 {
			t.Fatalf("after moving 3 of 5: %+v, online %d", l, e.stock(p))
		}
		unchanged := func(name string) {
			t.Helper()
			st := e.stallOf(f.manager, ev, f.group.ID)
			if e.stock(p) != 2 || len(st.Stock) != 1 || st.Stock[0].AtStall != 3 || e.count("fair_stock_moves", "") != 1 {
				t.Fatalf("%s changed something: online %d, stall %+v, moves %d", name, e.stock(p), st.Stock, e.count("fair_stock_moves", ""))
			}
		}
		e.moveStock(f.manager, ev, p, 3, false).wantError(t, 409, "insufficient_stock")
		unchanged("a move beyond the online stock")
		for name, c := range map[string]struct {
			who     session
			product string
			qty     int
			field   string
		}{
			"another group's product": {f.manager, basket, 1, "product_id"},
			"an unknown product":      {f.manager, uuid.NewString(), 1, "product_id"},
			"not a product id":        {f.manager, "vase", 1, "product_id"},
			"no units":                {f.manager, p, 0, "quantity"},
			"too many units":          {f.manager, p, 10001, "quantity"},
			"not the product's group": {f.other, p, 1, "product_id"},
		} {
			if er := e.moveStock(c.who, ev, c.product, c.qty, false).wantError(t, 422, "validation_failed"); er.Error.Fields[c.field] == "" {
				t.Errorf("%s: fields %v", name, er.Error.Fields)
			}
			unchanged(name)
		}
		// The basket's group has no stall here.
		e.moveStock(f.other, ev, basket, 1, false).wantError(t, 409, "invalid_state")
		e.moveStock(f.buyer, ev, p, 1, false).wantError(t, 403, "forbidden")
		e.moveStock(f.manager, uuid.NewString(), p, 1, false).wantError(t, 404, "not_found")
		e.moveStock(f.manager, ev, p, 4, true).wantError(t, 409, "insufficient_stock")
		unchanged("a return beyond the stall's stock")

		// One sold at the fair, two come back: online stock is 2 + 2.
		e.recordSales(f.manager, ev, fairSale(uuid.NewString(), time.Now(), "cash", fairItem(p, 1)))
		res = e.moveStock(f.manager, ev, p, 2, true)
		res.wantStatus(t, 200)
		res.decode(t, &l)
		if l.AtStall != 0 || l.Returned != 2 || l.Sold != 1 || l.Online != 4 || e.stock(p) != 4 {
			t.Fatalf("after returning 2: %+v, online %d", l, e.stock(p))
		}
		var pub productBody
		e.do("GET", "/api/v1/products/"+p, nil).decode(t, &pub)
		if pub.Stock != 4 || !pub.InStock {
			t.Fatalf("the public product after the return: stock %d", pub.Stock)
		}
		e.moveStock(f.manager, ev, p, 1, true).wantError(t, 409, "insufficient_stock")
		if e.count("fair_stock_moves", "") != 2 {
			t.Fatalf("%d moves recorded, want 2", e.count("fair_stock_moves", ""))
		}
	})
}

// The same batch sent three times, twice at once through two server
// instances on one database, then again: each sale is applied and booked
// exactly once. Three rounds of 30 sales; under -short (CI's race run,
// after the full size has run on SQLite) two rounds of 16.
func TestFairSalesAppliedOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	rounds, perBatch := 3, 30
	if testing.Short() {
		rounds, perBatch = 2, 16
	}
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			u := modelstest.URL(t, engine)
			open := func() *gorm.DB {
				db, err := models.Open(context.Background(), u, models.OpenOptions{MaxOpenConns: 10})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = models.Close(db) })
				if _, err := models.Migrate(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				return db
			}
			one, two := newEnv(t, open()), newEnv(t, open())
			f := newFair(one, 200)
			one.moveStock(f.manager, f.event.ID, f.vase.ID, 150, false).wantStatus(t, 200)
			start := time.Now().Add(-time.Hour)
			for round := range rounds {
				batch := make([]map[string]any, perBatch)
				for i := range batch {
					payment := []string{"cash", "jazzcash", "easypaisa"}[i%3]
					batch[i] = fairSale(uuid.NewString(), start.Add(time.Duration(round*perBatch+i)*time.Second), payment,
						fairItem(f.vase.ID, 1+i%2))
				}
				var got [2]salesBody
				inParallel(2, func(i int) {
					e := []*env{one, two}[i]
					res := e.do("POST", "/api/v1/events/"+f.event.ID+"/sales", map[string]any{"sales": batch}, bearer(f.manager.AccessToken))
					if res.Code == http.StatusOK {
						res.decode(t, &got[i])
					} else {
						t.Errorf("instance %d: %d %s", i, res.Code, res.Body)
					}
				})
				third := one.recordSales(f.manager, f.event.ID, batch...)
				if got[0].Applied+got[1].Applied != perBatch || got[0].Duplicate+got[1].Duplicate != perBatch ||
					third.Applied != 0 || third.Duplicate != perBatch {
					t.Fatalf("round %d: applied %d+%d, then %d", round, got[0].Applied, got[1].Applied, third.Applied)
				}
				for i := range batch {
					a, b := got[0].Sales[i], got[1].Sales[i]
					if a.ID != batch[i]["id"] || b.ID != a.ID || (a.Status == "applied") == (b.Status == "applied") ||
						third.Sales[i].Status != "duplicate" || a.Total != b.Total {
						t.Fatalf("round %d, sale %d: %+v, %+v, then %+v", round, i, a, b, third.Sales[i])
					}
				}
			}
			n := int64(rounds * perBatch)
			if one.count("fair_sales", "") != n || one.fairBookings() != n || one.count("fair_sale_items", "") != n {
				t.Fatalf("%d sales, %d bookings, %d items for %d sales sent three times each", one.count("fair_sales", ""),
					one.fairBookings(), one.count("fair_sale_items", ""), n)
			}
			// Half the sales were of 1 unit, half of 2.
			st := one.stallOf(f.manager, f.event.ID, f.group.ID)
			units := n / 2 * 3
			if st.Sales.Count != n || st.Sales.Units != units || st.Stock[0].Sold != int(units) || st.Stock[0].AtStall != 150-int(units) ||
				st.Sales.Total.Amount != units*300000 || st.Sales.NeedsReconciliation != 0 {
				t.Fatalf("stall %+v", st)
			}
			if got := one.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != units*75000 {
				t.Fatalf("Shazia's payable holds %d, want %d", got, units*75000)
			}
			one.verifyLedger(f.admin)
		})
	}
}

// Batches sent out of order, overlapping: each sale is applied once,
// whatever batch brings it first, and the answer keeps the batch's order.
func TestFairSalesOutOfOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 20)
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 10, false).wantStatus(t, 200)
		start := time.Now().Add(-90 * time.Minute)
		sales := make([]map[string]any, 9)
		for i := range sales {
			sales[i] = fairSale(uuid.NewString(), start.Add(time.Duration(i)*time.Minute), "cash", fairItem(f.vase.ID, 1))
		}
		later := e.recordSales(f.manager, f.event.ID, sales[4:8]...)
		earlier := e.recordSales(f.manager, f.event.ID, sales[0:4]...)
		mixed := e.recordSales(f.manager, f.event.ID, sales[6], sales[8], sales[2], sales[8])
		if later.Applied != 4 || earlier.Applied != 4 || mixed.Applied != 1 || mixed.Duplicate != 3 {
			t.Fatalf("applied %d, %d, %d", later.Applied, earlier.Applied, mixed.Applied)
		}
		wantStatus := []string{"duplicate", "applied", "duplicate", "duplicate"}
		for i, id := range []map[string]any{sales[6], sales[8], sales[2], sales[8]} {
			if got := mixed.Sales[i]; got.ID != id["id"] || got.Status != wantStatus[i] || got.Total.Amount != 300000 {
				t.Errorf("mixed batch, sale %d: %+v", i, got)
			}
		}
		st := e.stallOf(f.manager, f.event.ID, f.group.ID)
		if st.Sales.Count != 9 || st.Stock[0].Sold != 9 || st.Stock[0].AtStall != 1 || st.Sales.NeedsReconciliation != 0 ||
			e.fairBookings() != 9 || st.CashExpected.Amount != 9*300000 {
			t.Fatalf("stall %+v, %d bookings", st, e.fairBookings())
		}
		e.verifyLedger(f.admin)
	})
}

// A sale of more than the stall holds is kept and booked in full, and
// flagged for reconciliation; so is the sale that finds the stall empty
// when a later one reached the books first.
func TestFairSaleBeyondStallStockIsFlagged(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 2, false).wantStatus(t, 200)
		now := time.Now()
		big := fairSale(uuid.NewString(), now.Add(-time.Minute), "cash", fairItem(f.vase.ID, 3))
		res := e.recordSales(f.manager, f.event.ID, big)
		got := res.Sales[0]
		if got.Status != "applied" || !got.NeedsReconciliation || !slices.Equal(got.Reasons, []string{"beyond_stall_stock"}) ||
			got.Total.Amount != 900000 {
			t.Fatalf("a sale of 3 at a stall of 2: %+v", got)
		}
		st := e.stallOf(f.manager, f.event.ID, f.group.ID)
		if l := st.Stock[0]; l.AtStall != 0 || l.Sold != 3 || l.Beyond != 1 || l.Online != 8 || st.Sales.NeedsReconciliation != 1 {
			t.Fatalf("stall %+v", st)
		}
		// Booked in full: three units of Shazia's labour.
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 3*75000 {
			t.Fatalf("Shazia's payable holds %d", got)
		}
		// Resent, it is a duplicate that says it still needs reconciliation.
		again := e.recordSales(f.manager, f.event.ID, big).Sales[0]
		if again.Status != "duplicate" || !again.NeedsReconciliation || len(again.Reasons) != 1 {
			t.Fatalf("resent: %+v", again)
		}

		// Two more units; the later sale arrives first and takes them both.
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 2, false).wantStatus(t, 200)
		first, second := uuid.NewString(), uuid.NewString()
		e.recordSales(f.manager, f.event.ID, fairSale(second, now.Add(-10*time.Second), "cash", fairItem(f.vase.ID, 2)))
		late := e.recordSales(f.manager, f.event.ID, fairSale(first, now.Add(-20*time.Second), "jazzcash", fairItem(f.vase.ID, 1)))
		if !late.Sales[0].NeedsReconciliation {
			t.Fatalf("the sale that found the stall empty: %+v", late.Sales[0])
		}
		r := e.eventReport(f.manager, f.event.ID)
		var flagged []string
		for _, fl := range r.Stalls[0].Flagged {
			flagged = append(flagged, fl.ID)
		}
		if !slices.Equal(flagged, []string{big["id"].(string), first}) || r.Stalls[0].Products[0].Beyond != 2 ||
			r.Stalls[0].Products[0].UnitsSold != 6 || r.Stalls[0].Units != 6 {
			t.Fatalf("report: flagged %v, products %+v", flagged, r.Stalls[0].Products)
		}
		e.verifyLedger(f.admin)
	})
}

// Closing the register Rs 150 short posts the shortage to the group's cash
// over/short account, and the ledger still verifies.
func TestFairRegisterCloseShort(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		ev := f.event.ID
		e.moveStock(f.manager, ev, f.vase.ID, 5, false).wantStatus(t, 200)
		now := time.Now()
		e.recordSales(f.manager, ev,
			fairSale(uuid.NewString(), now.Add(-3*time.Minute), "cash", fairItem(f.vase.ID, 1)),
			fairSale(uuid.NewString(), now.Add(-2*time.Minute), "cash", fairItem(f.vase.ID, 1)),
			fairSale(uuid.NewString(), now.Add(-time.Minute), "jazzcash", fairItem(f.vase.ID, 1)))
		close := "/api/v1/events/" + ev + "/stalls/" + f.group.ID + "/close"
		counted := map[string]any{"counted_cash": pkr(600000 - 15000)}

		e.do("POST", close, counted, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", close, counted, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("POST", "/api/v1/events/"+uuid.NewString()+"/stalls/"+f.group.ID+"/close", counted, bearer(f.manager.AccessToken)).
			wantError(t, 404, "not_found")
		for field, body := range map[string]map[string]any{
			"counted_cash.currency": {"counted_cash": map[string]any{"amount": 100, "currency": "USD"}},
			"counted_cash.amount":   {"counted_cash": pkr(-1)},
			"counted_cash":          {},
		} {
			if er := e.do("POST", close, body, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed"); er.Error.Fields[field] == "" {
				t.Errorf("%s: fields %v", field, er.Error.Fields)
			}
		}
		if e.count("ledger_transactions", "kind = ?", "cash_over_short") != 0 || e.count("fair_stalls", "closed_at IS NOT NULL") != 0 {
			t.Fatal("a refused close wrote something")
		}

		res := e.do("POST", close, counted, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		var st stallBody
		res.decode(t, &st)
		if r := st.Register; r == nil || r.CashExpected.Amount != 600000 || r.CountedCash.Amount != 585000 || r.OverShort.Amount != -15000 ||
			r.TransactionID == nil {
			t.Fatalf("register %+v", st.Register)
		}
		if got := e.accounts(f.group.ID, f.manager)["cash_over_short"]; got != -15000 {
			t.Fatalf("the group's cash over/short account holds %d, want -15000 (Rs 150 short)", got)
		}
		e.verifyLedger(f.admin)
		var v verification
		e.do("GET", "/api/v1/audit/ledger/verify", nil, bearer(f.admin.AccessToken)).decode(t, &v)
		if !v.OK || v.FirstBadTransaction != nil {
			t.Fatalf("verify %+v", v)
		}
		var rep reportBody
		e.do("GET", "/api/v1/audit/groups/"+f.group.ID+"/report", nil, bearer(f.manager.AccessToken)).decode(t, &rep)
		if !rep.LedgerVerified {
			t.Fatal("the group's chain does not verify after the close")
		}

		if er := e.do("POST", close, counted, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state"); !strings.Contains(er.Error.Message, "Rs 5,850.00") {
			t.Errorf("second close: %q", er.Error.Message)
		}
		// A cash sale that reaches the books after the close is booked and flagged.
		late := e.recordSales(f.manager, ev, fairSale(uuid.NewString(), now.Add(-30*time.Second), "cash", fairItem(f.vase.ID, 1)))
		if s := late.Sales[0]; !s.NeedsReconciliation || !slices.Equal(s.Reasons, []string{"after_register_close"}) {
			t.Fatalf("a sale after the close: %+v", s)
		}
		// Stock still comes back after the close, but no more goes out.
		e.moveStock(f.manager, ev, f.vase.ID, 1, false).wantError(t, 409, "invalid_state")
		e.moveStock(f.manager, ev, f.vase.ID, 1, true).wantStatus(t, 200)

		r := e.eventReport(f.manager, ev)
		s := r.Stalls[0]
		if s.CashExpected.Amount != 600000 || s.CountedCash == nil || s.CountedCash.Amount != 585000 || s.OverShort.Amount != -15000 ||
			s.CashAfterClose.Amount != 300000 || s.ByPayment["cash"].Amount != 900000 || s.ByPayment["jazzcash"].Amount != 300000 ||
			r.Totals.OverShort.Amount != -15000 {
			t.Fatalf("report %+v", s)
		}
		var evb eventBody
		e.do("GET", "/api/v1/events/"+ev, nil).decode(t, &evb)
		if evb.Stalls[0].RegisterClosedAt == nil {
			t.Fatal("the event does not show the register closed")
		}
	})
}

// Fair sales reach the artisans' statements, the group's audit report and
// the event's report, each from the ledger.
func TestFairSalesInStatementsAndReports(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		ev := f.event.ID
		e.moveStock(f.manager, ev, f.vase.ID, 5, false).wantStatus(t, 200)
		now := time.Now()
		e.recordSales(f.manager, ev,
			fairSale(uuid.NewString(), now.Add(-3*time.Minute), "cash", fairItem(f.vase.ID, 2)),
			fairSale(uuid.NewString(), now.Add(-2*time.Minute), "easypaisa", fairItem(f.vase.ID, 1)),
			fairSale(uuid.NewString(), now.Add(-1*time.Minute), "cash", fairItem(f.vase.ID, 1)))

		var st struct {
			Earned  map[string]money `json:"earned"`
			Balance money            `json:"balance"`
			Minutes int64            `json:"minutes_worked"`
		}
		e.do("GET", "/api/v1/artisans/"+f.public.ID+"/statement", nil, bearer(f.manager.AccessToken)).decode(t, &st)
		if st.Earned["cash_sale"].Amount != 4*75000 || st.Balance.Amount != 4*75000 || st.Minutes != 4*180 {
			t.Fatalf("Shazia's statement %+v", st)
		}
		e.do("GET", "/api/v1/artisans/"+f.private.ID+"/statement", nil, bearer(f.manager.AccessToken)).decode(t, &st)
		if st.Earned["cash_sale"].Amount != 4*25000 || st.Minutes != 4*60 {
			t.Fatalf("Rukhsana's statement %+v", st)
		}

		var rep reportBody
		e.do("GET", "/api/v1/audit/groups/"+f.group.ID+"/report", nil, bearer(f.manager.AccessToken)).decode(t, &rep)
		if rep.Sales.Amount != 4*300000 || rep.Units != 4 || rep.Orders != 3 || rep.CollectiveFund.Amount != 4*21200 ||
			rep.Fees.Platform.Amount != 4*30000 || rep.Fees.PaymentProcessing.Amount != 0 || !rep.LedgerVerified {
			t.Fatalf("group report %+v", rep)
		}
		earned := map[string]int64{}
		for _, a := range rep.Artisans {
			earned[a.DisplayName] = a.Earned.Amount
		}
		if earned["Shazia"] != 4*75000 || earned["Rukhsana"] != 4*25000 {
			t.Fatalf("group report's artisans %+v", rep.Artisans)
		}

		r := e.eventReport(f.manager, ev)
		s := r.Stalls[0]
		if len(r.Stalls) != 1 || s.Sales != 3 || s.Units != 4 || s.Total.Amount != 1200000 || s.GroupMargin.Amount != 4*93800 ||
			s.CollectiveFund.Amount != 4*21200 || s.PlatformFee.Amount != 4*30000 || s.CashExpected.Amount != 900000 ||
			s.CountedCash != nil || len(s.Products) != 1 || s.Products[0].Sales.Amount != 1200000 || s.Products[0].AtStall != 1 ||
			r.Totals.ArtisansEarned.Amount != 4*100000 {
			t.Fatalf("event report %+v totals %+v", s, r.Totals)
		}
		for _, a := range s.Artisans {
			want := map[string][2]int64{f.public.ID: {4 * 75000, 4 * 180}, f.private.ID: {4 * 25000, 4 * 60}}[a.ArtisanID]
			if a.Earned.Amount != want[0] || a.Minutes != want[1] || a.Units != 4 {
				t.Errorf("event report's artisan %+v", a)
			}
		}
		// Who may read it: the group's readers; others 404, buyers 403.
		e.do("GET", "/api/v1/events/"+ev+"/report", nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/events/"+ev+"/report", nil, bearer(f.auditor.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/events/"+ev+"/report", nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		if r := e.eventReport(f.admin, ev); len(r.Stalls) != 1 {
			t.Fatalf("admin's report has %d stalls", len(r.Stalls))
		}
	})
}

// A sale recorded offline is booked with the product's price as it was
// when it was recorded, though the price changed before the batch arrived.
func TestFairSaleBookedAtSplitOfRecordedAt(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 5, false).wantStatus(t, 200) // the tags say Rs 3,000
		before := time.Now()
		time.Sleep(2 * time.Millisecond)
		e.do("PATCH", "/api/v1/products/"+f.vase.ID, map[string]any{"price": pkr(350000)}, bearer(f.manager.AccessToken)).
			wantStatus(t, 200)
		time.Sleep(2 * time.Millisecond)
		after := time.Now()
		old, repriced := uuid.NewString(), uuid.NewString()
		res := e.recordSales(f.manager, f.event.ID,
			fairSale(repriced, after, "cash", fairItem(f.vase.ID, 1)),
			fairSale(old, before, "cash", fairItem(f.vase.ID, 1)))
		if res.Sales[0].Total.Amount != 350000 || res.Sales[1].Total.Amount != 300000 {
			t.Fatalf("totals %d (recorded after the change) and %d (before it)", res.Sales[0].Total.Amount, res.Sales[1].Total.Amount)
		}
		receipts := func(saleID string) int64 {
			var n int64
			if err := e.db.Table("ledger_postings p").Select("COALESCE(SUM(p.amount), 0)").
				Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
				Joins("JOIN ledger_accounts a ON a.id = p.account_id").
				Where("t.reference LIKE ? AND a.type = ?", "fair-sale:"+saleID+":%", "cash_receipts").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if receipts(old) != -300000 || receipts(repriced) != -350000 {
			t.Fatalf("cash received: %d and %d", receipts(old), receipts(repriced))
		}
		e.verifyLedger(f.admin)
	})
}

// Bad batches are refused whole with a clear answer, and nothing of them is
// recorded or booked.
func TestFairSalesBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		_, basket := secondGroupProduct(e, f.catalogFixture)
		ev, p := f.event.ID, f.vase.ID
		e.moveStock(f.manager, ev, p, 5, false).wantStatus(t, 200)
		now := time.Now()
		good := func() map[string]any { return fairSale(uuid.NewString(), now, "cash", fairItem(p, 1)) }
		with := func(change func(map[string]any)) map[string]any { s := good(); change(s); return s }
		nothingWritten := func(name string) {
			t.Helper()
			if n, b := e.count("fair_sales", ""), e.fairBookings(); n != 0 || b != 0 {
				t.Fatalf("%s: %d sales and %d bookings written", name, n, b)
			}
			if st := e.stallOf(f.manager, ev, f.group.ID); st.Stock[0].AtStall != 5 || st.Stock[0].Sold != 0 {
				t.Fatalf("%s: stall %+v", name, st.Stock)
			}
		}
		dup := uuid.NewString()
		many := make([]map[string]any, 101)
		for i := range many {
			many[i] = good()
		}
		for name, c := range map[string]struct {
			sales []map[string]any
			field string
		}{
			"no sales":                {[]map[string]any{}, "sales"},
			"a batch of 101":          {many, "sales"},
			"an unknown product":      {[]map[string]any{good(), fairSale(uuid.NewString(), now, "cash", fairItem(uuid.NewString(), 1))}, "sales[1].items[0].product_id"},
			"another group's product": {[]map[string]any{fairSale(uuid.NewString(), now, "cash", fairItem(basket, 1))}, "sales[0].items[0].product_id"},
			"no recorded_at":          {[]map[string]any{with(func(s map[string]any) { delete(s, "recorded_at") })}, "sales[0].recorded_at"},
			"a week before the event": {[]map[string]any{with(func(s map[string]any) { s["recorded_at"] = now.Add(-7 * 24 * time.Hour).Format(time.RFC3339) })}, "sales[0].recorded_at"},
			"in the future":           {[]map[string]any{with(func(s map[string]any) { s["recorded_at"] = now.Add(time.Hour).Format(time.RFC3339) })}, "sales[0].recorded_at"},
			"paid by card":            {[]map[string]any{with(func(s map[string]any) { s["payment"] = "card" })}, "sales[0].payment"},
			"an id that is no UUID":   {[]map[string]any{with(func(s map[string]any) { s["id"] = "sale-1" })}, "sales[0].id"},
			"no units":                {[]map[string]any{fairSale(uuid.NewString(), now, "cash", fairItem(p, 0))}, "sales[0].items[0].quantity"},
			"no items":                {[]map[string]any{fairSale(uuid.NewString(), now, "cash")}, "sales[0].items"},
			"a product twice":         {[]map[string]any{fairSale(uuid.NewString(), now, "cash", fairItem(p, 1), fairItem(p, 2))}, "sales[0].items[1].product_id"},
			"one id, two sales":       {[]map[string]any{fairSale(dup, now, "cash", fairItem(p, 1)), fairSale(dup, now, "cash", fairItem(p, 2))}, "sales[1].id"},
		} {
			res := e.sendSales(f.manager, ev, c.sales...)
			if er := res.wantError(t, 422, "validation_failed"); er.Error.Fields[c.field] == "" {
				t.Errorf("%s: fields %v", name, er.Error.Fields)
			}
			nothingWritten(name)
		}
		e.sendSales(f.other, ev, fairSale(uuid.NewString(), now, "cash", fairItem(p, 1))).wantError(t, 422, "validation_failed")
		e.sendSales(f.buyer, ev, good()).wantError(t, 403, "forbidden")
		e.sendSales(f.manager, uuid.NewString(), good()).wantError(t, 404, "not_found")
		e.do("POST", "/api/v1/events/"+ev+"/sales", map[string]any{"sales": []map[string]any{with(func(s map[string]any) {
			s["recorded_at"] = "yesterday"
		})}}, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		nothingWritten("refused batches")

		// An id recorded before, sent again with other contents: refused
		// whole, with the new sale beside it.
		first := good()
		e.recordSales(f.manager, ev, first)
		changed := fairSale(first["id"].(string), now, "cash", fairItem(p, 2))
		fresh := good()
		er := e.sendSales(f.manager, ev, fresh, changed).wantError(t, 409, "conflict")
		if er.Error.Fields["sales[1].id"] == "" {
			t.Errorf("fields %v", er.Error.Fields)
		}
		if e.count("fair_sales", "") != 1 || e.fairBookings() != 1 || e.count("fair_sales", "id = ?", fresh["id"]) != 0 {
			t.Fatal("a refused batch recorded a sale")
		}
	})
}

// The label sheet lists the products at the fair with their prices and the
// makers' share, in rupees, and the event's times in Pakistan time.
func TestFairLabelSheet(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 10)
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 3, false).wantStatus(t, 200)
		res := e.page("/api/v1/events/" + f.event.ID + "/labels")
		res.wantStatus(t, 200)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("Content-Type %q", ct)
		}
		text := pageText(res.Body)
		for _, want := range []string{"Multani blue pottery vase", "ملتانی گلدان", "Rs 3,000.00", "Rs 1,938.00 (64.6%)",
			"Multan Blue Pottery Women", "http://localhost:8080/p/" + f.vase.ID,
			f.event.StartsAt.In(karachi(t)).Format("Mon 2 Jan 2006, 15:04")} {
			if !strings.Contains(text, want) {
				t.Errorf("the sheet lacks %q", want)
			}
		}
		if strings.Contains(strings.ToLower(text), "<script") {
			t.Error("the sheet has a script")
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src data:") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q", csp)
		}
		// Returned, the product leaves the sheet; another group's stall is filtered out.
		e.moveStock(f.manager, f.event.ID, f.vase.ID, 3, true).wantStatus(t, 200)
		if text := pageText(e.page("/api/v1/events/" + f.event.ID + "/labels").Body); strings.Contains(text, "Rs 3,000.00") {
			t.Error("a product with no units at the stall is still on the sheet")
		}
		e.page("/api/v1/events/"+uuid.NewString()+"/labels").wantStatus(t, 404)
		e.page("/api/v1/events/"+f.event.ID+"/labels?group_id=x").wantStatus(t, 400)
	})
}

func karachi(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	return loc
}

// A register closed while a batch is being applied: the batch is wholly
// before the close (its cash expected) or wholly after it (every sale
// flagged after_register_close), never split.
func TestFairCloseRacesABatch(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newFair(e, 100)
		now := time.Now().UTC()
		for round := range 3 {
			ev := e.newEvent(f.manager, now.Add(-time.Hour), now.Add(24*time.Hour)).ID
			e.do("POST", "/api/v1/events/"+ev+"/stalls", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
				wantStatus(t, http.StatusCreated)
			e.moveStock(f.manager, ev, f.vase.ID, 20, false).wantStatus(t, 200)
			batch := make([]map[string]any, 20)
			for i := range batch {
				batch[i] = fairSale(uuid.NewString(), now.Add(-time.Duration(i)*time.Second), "cash", fairItem(f.vase.ID, 1))
			}
			var sales salesBody
			var closed stallBody
			inParallel(2, func(i int) {
				if i == 0 {
					res := e.sendSales(f.manager, ev, batch...)
					if res.Code == 200 {
						res.decode(t, &sales)
					} else {
						t.Errorf("batch: %d %s", res.Code, res.Body)
					}
					return
				}
				res := e.do("POST", "/api/v1/events/"+ev+"/stalls/"+f.group.ID+"/close", map[string]any{"counted_cash": pkr(0)},
					bearer(f.manager.AccessToken))
				if res.Code == 200 {
					res.decode(t, &closed)
				} else {
					t.Errorf("close: %d %s", res.Code, res.Body)
				}
			})
			flagged := 0
			for _, s := range sales.Sales {
				if slices.Contains(s.Reasons, "after_register_close") {
					flagged++
				}
			}
			expected := closed.Register.CashExpected.Amount
			if !(flagged == 0 && expected == 20*300000) && !(flagged == 20 && expected == 0) {
				t.Fatalf("round %d: %d of 20 sales after the close, which expected %d", round, flagged, expected)
			}
			if closed.Register.OverShort.Amount != -expected {
				t.Fatalf("round %d: over/short %d", round, closed.Register.OverShort.Amount)
			}
		}
		e.verifyLedger(f.admin)
	})
}
