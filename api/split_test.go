package api_test

import (
	"net/http"
	"testing"
)

// booked sums the postings of the sales booked for an order by account:
// "artisan:{id}" for a maker's payable, the account type for the others.
func (e *env) booked(orderID string) map[string]int64 {
	e.t.Helper()
	var rows []struct {
		OwnerKind string
		OwnerID   *string
		Type      string
		Amount    int64
	}
	err := e.db.Table("ledger_postings p").Select("a.owner_kind, a.owner_id, a.type, sum(p.amount) AS amount").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").
		Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Where("t.reference LIKE ? AND t.kind IN ?", "order:"+orderID+":%", []string{"sale", "cash_sale"}).
		Group("a.owner_kind, a.owner_id, a.type").Scan(&rows).Error
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		k := r.Type
		if r.OwnerKind == "artisan" && r.OwnerID != nil {
			k = "artisan:" + *r.OwnerID
		}
		out[k] += r.Amount
	}
	return out
}

// shipAndCollect ships a cash order's only group part and collects its cash.
func (e *env) shipAndCollect(manager session, orderID, groupID string, cash int64) *response {
	e.t.Helper()
	path := "/api/v1/orders/" + orderID
	e.do("POST", path+"/shipments", map[string]any{"group_id": groupID}, bearer(manager.AccessToken)).wantStatus(e.t, 200)
	return e.do("POST", path+"/deliver", map[string]any{"group_id": groupID, "cash_collected": pkr(cash)},
		bearer(manager.AccessToken))
}

// Rs 3,313.37, two makers (97 and 143 minutes at Rs 250.13/h), three units
// for cash: every figure booked is three times the unit split the buyer was
// shown, the estimated card fee (none was paid) going to the group margin.
func TestThreeUnitsBookThreeTimesTheUnitSplit(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": "labor_hours",
			"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		body := f.product("Ralli quilt", "textiles", 331337)
		body["cost"] = map[string]any{"materials": pkr(50000), "packaging": pkr(5000), "labor_minutes": 240, "hourly_wage": pkr(25013)}
		body["makers"] = []map[string]any{{"artisan_id": f.public.ID, "labor_minutes": 97}, {"artisan_id": f.private.ID, "labor_minutes": 143}}
		p := e.newProduct(f, body, true)
		shown := map[string]int64{}
		for _, l := range e.transparency(p.ID).Lines {
			shown[l.Kind] = l.Amount.Amount
		}
		o := e.order(f.buyer, "three-units", orderBodyOf("cash_on_delivery", item(p.ID, 3)))
		e.shipAndCollect(f.manager, o.ID, f.group.ID, o.Total.Amount).wantStatus(t, 200)

		got := e.booked(o.ID)
		want := map[string]int64{
			"materials":            3 * shown["materials"],
			"packaging":            3 * shown["packaging"],
			"collective_fund":      3 * shown["collective_fund"],
			"platform_fees":        3 * shown["platform_fee"],
			"undistributed_margin": 3 * (shown["group_margin"] + shown["payment_processing"]),
			"cash_receipts":        -(3*331337 + o.Shipping.Amount),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s booked %d, want %d (three times the unit split shown)", k, got[k], v)
			}
		}
		if labour := got["artisan:"+f.public.ID] + got["artisan:"+f.private.ID]; labour != 3*shown["artisan_labor"] {
			t.Errorf("labour booked %d, want %d", labour, 3*shown["artisan_labor"])
		}
		// Each maker's share is a whole unit share times three.
		for _, a := range []string{f.public.ID, f.private.ID} {
			if got["artisan:"+a]%3 != 0 {
				t.Errorf("maker %s booked %d: not three whole unit shares", a, got["artisan:"+a])
			}
		}
		e.verifyLedger(f.auditor)
	})
}

// An order whose frozen rates leave its price short of its costs (taken
// before checkout refused such products) is still booked when its cash is
// collected: the platform forgoes as much of its fee as it takes, the makers
// are paid in full, and nothing answers 500.
func TestAnUncoveredOrderTakenEarlierStillBooks(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		// Rs 1,600 at a fee of 20%: labour Rs 1,000 and materials and packaging Rs 550 leave Rs 50 for fees
		// of Rs 368; an older release took such orders. The line is rewritten to what it would have frozen.
		p2 := e.newProduct(f, f.product("Blue pottery tile", "pottery", 300000), true)
		o := e.order(f.buyer, "legacy", orderBodyOf("cash_on_delivery", item(p2.ID, 2)))
		if err := e.db.Exec("UPDATE order_lines SET unit_price = 160000, line_total = 320000, platform_fee_bps = 2000 WHERE order_id = ?",
			o.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.db.Exec("UPDATE orders SET subtotal = 320000, total = 320000 + shipping WHERE id = ?", o.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := e.db.Exec("UPDATE order_groups SET amount = 320000 + shipping_fee WHERE order_id = ?", o.ID).Error; err != nil {
			t.Fatal(err)
		}
		res := e.shipAndCollect(f.manager, o.ID, f.group.ID, 320000+o.Shipping.Amount)
		res.wantStatus(t, http.StatusOK)
		got := e.booked(o.ID)
		if labour := got["artisan:"+f.public.ID] + got["artisan:"+f.private.ID]; labour != 2*100000 {
			t.Errorf("makers booked %d, want their full labour %d", labour, 2*100000)
		}
		if got["platform_fees"] >= 2*32000 || got["materials"] != 2*50000 || got["packaging"] != 2*5000 {
			t.Errorf("booked %v", got)
		}
		e.verifyLedger(f.auditor)
	})
}
