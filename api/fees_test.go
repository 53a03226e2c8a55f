package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/karigar/karigar/services/catalog"
)

type feesBody struct {
	PlatformFeeBPS        int    `json:"platform_fee_bps"`
	ProcessingFeeBPS      int    `json:"processing_fee_bps"`
	UpdatedAt             string `json:"updated_at"`
	ProductsRefigured     int64  `json:"products_refigured"`
	ProductsNeedRepricing int64  `json:"products_needing_repricing"`
}

func fees(platform, processing int) map[string]any {
	return map[string]any{"platform_fee_bps": platform, "processing_fee_bps": processing}
}

// Fees are admin data: the configuration gives the first ones only, and a
// change refigures every product in the transaction that makes it.
func TestFeesAreAdminData(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": "labor_hours",
			"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		p := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)
		stored := func() productBody {
			t.Helper()
			var out productBody
			e.do("GET", "/api/v1/products/"+p.ID, nil).decode(t, &out)
			return out
		}
		current := func() feesBody {
			t.Helper()
			var out feesBody
			res := e.do("GET", "/api/v1/admin/fees", nil, bearer(f.admin.AccessToken))
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &out)
			return out
		}
		if got := current(); got.PlatformFeeBPS != 1000 || got.ProcessingFeeBPS != 300 || got.UpdatedAt == "" {
			t.Fatalf("first fees %+v", got)
		}
		e.do("GET", "/api/v1/admin/fees", nil).wantError(t, 401, "unauthorized")
		e.do("GET", "/api/v1/admin/fees", nil, bearer(f.manager.AccessToken)).wantError(t, 403, "forbidden")
		e.do("PUT", "/api/v1/admin/fees", fees(0, 0), bearer(f.auditor.AccessToken)).wantError(t, 403, "forbidden")

		// A server started later with other values in its environment changes nothing.
		c, err := catalog.New(e.db, catalog.Options{Currency: "PKR", PlatformFeeBPS: 2500, ProcessingBPS: 0, CursorKey: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		if recorded, err := c.InitFees(context.Background()); err != nil || recorded {
			t.Fatalf("a second start recorded fees: %v %v", recorded, err)
		}
		if got := current(); got.PlatformFeeBPS != 1000 || stored().ArtisanShareBPS != 6160 {
			t.Fatalf("after a restart with other fees: %+v, share %d", got, stored().ArtisanShareBPS)
		}

		put := func(body any) *response {
			return e.do("PUT", "/api/v1/admin/fees", body, bearer(f.admin.AccessToken))
		}
		for name, c := range map[string]struct {
			body  any
			field string
		}{
			"missing processing": {map[string]any{"platform_fee_bps": 1000}, "processing_fee_bps"},
			"over 100%":          {fees(10001, 300), "platform_fee_bps"},
			"negative":           {fees(1000, -1), "processing_fee_bps"},
			"100% together":      {fees(9700, 300), "platform_fee_bps"},
		} {
			if res := put(c.body).wantError(t, 422, "validation_failed"); res.Error.Fields[c.field] == "" {
				t.Errorf("%s: fields %v", name, res.Error.Fields)
			}
		}
		put(map[string]any{"platform_fee_bps": "ten", "processing_fee_bps": 300}).wantError(t, 400, "bad_request")
		if got := current(); got.PlatformFeeBPS != 1000 || got.ProcessingFeeBPS != 300 {
			t.Fatalf("refused changes changed the fees: %+v", got)
		}

		// 20%: margin 76000, fund 15200, group margin 60800; (100000 + 60800) × 10000 ÷ 300000 = 5360.
		res := put(fees(2000, 300))
		res.wantStatus(t, http.StatusOK)
		var ch feesBody
		res.decode(t, &ch)
		if ch.PlatformFeeBPS != 2000 || ch.ProductsRefigured != 1 || ch.ProductsNeedRepricing != 0 {
			t.Errorf("change %+v", ch)
		}
		if got := stored(); got.ArtisanShareBPS != 5360 || got.EffectiveHourlyWage.Amount != 40200 {
			t.Errorf("after a fee rise: %+v", got)
		}
		tr := e.transparency(p.ID)
		for _, l := range tr.Lines {
			if l.Kind == "platform_fee" && (l.Amount.Amount != 60000 || !strings.Contains(l.Label, "20%")) {
				t.Errorf("platform fee line %+v", l)
			}
		}
		put(fees(1000, 300)).wantStatus(t, http.StatusOK)
		if stored().ArtisanShareBPS != 6160 {
			t.Errorf("after the fee went back: %+v", stored())
		}
	})
}

// A fee rise leaves a product priced just above its costs short of them:
// it leaves the catalogue and is refused at checkout with
// product_unavailable, its page says it is not for sale, its managers see
// the shortfall in rupees; an order taken before the rise is booked at the
// rates frozen on it; a covering price publishes it again.
func TestFeeRiseWithdrawsProductsThatNoLongerCover(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		// Costs Rs 1,550; at 10% + 3% Rs 1,800 leaves a margin of Rs 16; at 20% + 3% it is Rs 212.97 short.
		p := e.newProduct(f, f.product("Blue pottery tile", "pottery", 180000), true)
		before := e.order(f.buyer, "before-the-rise", orderBodyOf("cash_on_delivery", item(p.ID, 1)))

		var ch feesBody
		res := e.do("PUT", "/api/v1/admin/fees", fees(2000, 300), bearer(f.admin.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &ch)
		if ch.ProductsNeedRepricing != 1 {
			t.Errorf("change %+v", ch)
		}

		if got := titles(listProducts(t, e, "")); got != "" {
			t.Errorf("catalogue after the rise %q", got)
		}
		stock := e.stock(p.ID)
		orders := e.count("orders", "1 = 1")
		res = e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(p.ID, 1)), bearer(f.buyer.AccessToken),
			header("Idempotency-Key", "after-the-rise"))
		if er := res.wantError(t, 409, "product_unavailable"); !strings.Contains(er.Error.Message, p.ID) ||
			er.Error.Fields["items[0].product_id"] == "" {
			t.Errorf("refusal %+v", er.Error)
		}
		if e.stock(p.ID) != stock || e.count("orders", "1 = 1") != orders {
			t.Errorf("a refused order took stock or was written")
		}

		var public, managed struct {
			productBody
			Shortfall *money `json:"shortfall"`
		}
		e.do("GET", "/api/v1/products/"+p.ID, nil).decode(t, &public)
		e.do("GET", "/api/v1/products/"+p.ID, nil, bearer(f.manager.AccessToken)).decode(t, &managed)
		if public.Status != "needs_repricing" || public.Shortfall != nil {
			t.Errorf("public view %+v", public)
		}
		if managed.Status != "needs_repricing" || managed.Shortfall == nil || managed.Shortfall.Amount != 21297 {
			t.Fatalf("managers' view %+v %+v", managed, managed.Shortfall)
		}
		e.do("GET", "/api/v1/products/"+p.ID+"/transparency", nil).wantError(t, 409, "product_unavailable")
		if er := e.do("GET", "/api/v1/products/"+p.ID+"/transparency", nil, bearer(f.manager.AccessToken)).
			wantError(t, 409, "product_unavailable"); !strings.Contains(er.Error.Message, "Rs 212.97 short") {
			t.Errorf("managers' refusal %q", er.Error.Message)
		}
		page := e.do("GET", "/p/"+p.ID, nil)
		if page.Code != 200 || !strings.Contains(string(page.Body), "not for sale now") {
			t.Errorf("public page %d %s", page.Code, page.Body)
		}
		e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
		// Other edits are kept, and it stays withdrawn; a price still short is refused, in rupees.
		e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": 9}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		er := e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"price": pkr(180000 + 21296)},
			bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
		if !strings.Contains(er.Error.Fields["price.amount"], "Rs 0.01 short") {
			t.Errorf("fields %v", er.Error.Fields)
		}

		// The order taken before the rise books at its frozen 10%.
		e.shipAndCollect(f.manager, before.ID, f.group.ID, before.Total.Amount).wantStatus(t, 200)
		if got := e.booked(before.ID); got["platform_fees"] != 18000 || got["artisan:"+f.public.ID]+got["artisan:"+f.private.ID] != 100000 {
			t.Errorf("booked %v", got)
		}
		e.verifyLedger(f.auditor)

		var repriced productBody
		res = e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"price": pkr(180000 + 21297)}, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &repriced)
		if repriced.Status != "published" || titles(listProducts(t, e, "")) != "Blue pottery tile" {
			t.Fatalf("repriced %+v", repriced)
		}
		after := e.order(f.buyer, "after-the-repricing", orderBodyOf("cash_on_delivery", item(p.ID, 1)))
		if n := e.count("order_lines", "order_id = ? AND platform_fee_bps = 2000 AND processing_bps = 300", after.ID); n != 1 {
			t.Errorf("the new order froze other fees")
		}
	})
}

// Checkouts racing a fee rise that leaves the product short: each is either
// taken at the fees it froze, which cover the price, or refused with
// product_unavailable; every order taken is booked when its cash comes.
func TestCheckoutsRacingAFeeRiseAreAllBookable(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		body := f.product("Blue pottery tile", "pottery", 180000)
		body["stock"] = 100
		p := e.newProduct(f, body, true)
		codes := make([]int, 21)
		ids := make([]string, 21)
		inParallel(21, func(i int) {
			if i == 10 {
				codes[i] = e.do("PUT", "/api/v1/admin/fees", fees(2000, 300), bearer(f.admin.AccessToken)).Code
				return
			}
			res := e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(p.ID, 1)), bearer(f.buyer.AccessToken),
				header("Idempotency-Key", fmt.Sprintf("race-%d", i)))
			codes[i] = res.Code
			if res.Code == http.StatusCreated {
				var o orderBody
				res.decode(t, &o)
				ids[i] = o.ID
			} else {
				res.wantError(t, 409, "product_unavailable")
			}
		})
		if codes[10] != http.StatusOK {
			t.Fatalf("the fee change answered %d", codes[10])
		}
		for i, id := range ids {
			if id == "" {
				continue
			}
			if n := e.count("order_lines", "order_id = ? AND platform_fee_bps = 1000", id); n != 1 {
				t.Errorf("order %d froze fees its price does not cover", i)
			}
			o := orderBody{}
			e.do("GET", "/api/v1/orders/"+id, nil, bearer(f.buyer.AccessToken)).decode(t, &o)
			e.shipAndCollect(f.manager, id, f.group.ID, o.Total.Amount).wantStatus(t, http.StatusOK)
		}
		e.verifyLedger(f.auditor)
		if e.stock(p.ID)+e.count("order_lines", "1 = 1") != 100 {
			t.Errorf("stock %d after %d orders", e.stock(p.ID), e.count("order_lines", "1 = 1"))
		}
	})
}

// A group's managers find what they must reprice: their products of every
// status, filtered by status, with the shortfall of those withdrawn.
func TestGroupProductsListsWhatNeedsRepricing(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		tile := e.newProduct(f, f.product("Blue pottery tile", "pottery", 180000), true)
		vase := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)
		draft := e.newProduct(f, f.product("Draft bowl", "pottery", 300000), false)
		e.do("PUT", "/api/v1/admin/fees", fees(2000, 300), bearer(f.admin.AccessToken)).wantStatus(t, http.StatusOK)

		type page struct {
			Data []struct {
				productBody
				Shortfall *money `json:"shortfall"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		path := "/api/v1/groups/" + f.group.ID + "/products"
		var all page
		res := e.do("GET", path+"?limit=2", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &all)
		if len(all.Data) != 2 || all.NextCursor == nil || all.Data[0].ID != draft.ID || all.Data[1].ID != vase.ID {
			t.Fatalf("first page %+v", all)
		}
		var rest page
		e.do("GET", path+"?limit=2&cursor="+*all.NextCursor, nil, bearer(f.manager.AccessToken)).decode(t, &rest)
		if len(rest.Data) != 1 || rest.Data[0].ID != tile.ID || rest.NextCursor != nil {
			t.Fatalf("second page %+v", rest)
		}
		var short page
		e.do("GET", path+"?status=needs_repricing", nil, bearer(f.manager.AccessToken)).decode(t, &short)
		if len(short.Data) != 1 || short.Data[0].ID != tile.ID || short.Data[0].Shortfall == nil ||
			short.Data[0].Shortfall.Amount != 21297 || len(short.Data[0].Makers) != 2 {
			t.Fatalf("needs repricing %+v", short)
		}
		e.do("GET", path+"?status=sold", nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", path+"?status=draft&cursor="+*all.NextCursor, nil, bearer(f.manager.AccessToken)).wantError(t, 400, "bad_request")
		e.do("GET", path, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(f.admin.AccessToken)).wantStatus(t, http.StatusOK)
	})
}
