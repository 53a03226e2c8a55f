package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

type orderBody struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Items  []struct {
		ProductID string `json:"product_id"`
		GroupID   string `json:"group_id"`
		Quantity  int    `json:"quantity"`
		LineTotal money  `json:"line_total"`
	} `json:"items"`
	Groups []struct {
		GroupID string `json:"group_id"`
		Status  string `json:"status"`
		Amount  money  `json:"amount"`
	} `json:"groups"`
	Subtotal money `json:"subtotal"`
	Shipping money `json:"shipping"`
	Total    money `json:"total"`
	Payment  struct {
		Method       string `json:"method"`
		Status       string `json:"status"`
		ProviderRef  string `json:"provider_ref"`
		ClientSecret string `json:"client_secret"`
	} `json:"payment"`
	ExpiresAt *string `json:"expires_at"`
}

var address = map[string]any{"name": "Ayesha Khan", "line1": "House 12, Street 4", "city": "Lahore",
	"country": "PK", "phone": "+92 300 1234567"}

func orderBodyOf(method string, items ...any) map[string]any {
	return map[string]any{"items": items, "shipping_address": address, "payment_method": method}
}

func item(productID string, qty int) map[string]any {
	return map[string]any{"product_id": productID, "quantity": qty}
}

func (e *env) order(s session, key string, body map[string]any) orderBody {
	e.t.Helper()
	var o orderBody
	res := e.do("POST", "/api/v1/orders", body, bearer(s.AccessToken), header("Idempotency-Key", key))
	res.wantStatus(e.t, http.StatusCreated)
	res.decode(e.t, &o)
	return o
}

func (e *env) stock(productID string) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Model(&models.Product{}).Select("stock").Where("id = ?", productID).Scan(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// twoGroups is the catalogue fixture with a second verified group, managed
// by f.other, and a product in each.
type twoGroups struct {
	catalogFixture
	second        groupBody
	vase, basket  productBody
	secondArtisan artisanBody
}

func newTwoGroups(e *env) twoGroups {
	t := e.t
	f := twoGroups{catalogFixture: newCatalogFixture(e)}
	f.second = e.newGroup(f.other, "Thar Basket Weavers", "Tharparkar", "sindh")
	e.verify(f.admin, f.second.ID)
	res := e.do("POST", "/api/v1/groups/"+f.second.ID+"/artisans", map[string]any{"display_name": "Marvi",
		"full_name": "Marvi Secret-Surname", "district": "Tharparkar", "public_profile": true}, bearer(f.other.AccessToken))
	res.wantStatus(t, http.StatusCreated)
	res.decode(t, &f.secondArtisan)
	f.vase = e.newProduct(f.catalogFixture, f.product("Blue pottery vase", "pottery", 300000), true)
	body := f.product("Date-palm basket", "basketry", 200000)
	body["makers"] = []map[string]any{{"artisan_id": f.secondArtisan.ID, "labor_minutes": 240}}
	res = e.do("POST", "/api/v1/groups/"+f.second.ID+"/products", body, bearer(f.other.AccessToken))
	res.wantStatus(t, http.StatusCreated)
	res.decode(t, &f.basket)
	e.do("POST", "/api/v1/products/"+f.basket.ID+"/publish", nil, bearer(f.other.AccessToken)).wantStatus(t, http.StatusOK)
	return f
}

func (e *env) verifyLedger(s session) {
	e.t.Helper()
	var v verification
	e.do("GET", "/api/v1/audit/ledger/verify", nil, bearer(s.AccessToken)).decode(e.t, &v)
	if !v.OK || !v.TrialBalanceOK {
		e.t.Fatalf("the ledger does not verify: %+v", v)
	}
}

// A cash-on-delivery order across two groups: each group sees and ships its
// own part; the sale is booked part by part as the cash is collected.
func TestCashOnDeliveryOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		body := orderBodyOf("cash_on_delivery", item(f.vase.ID, 2), item(f.basket.ID, 1))
		e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken)).wantError(t, 400, "bad_request") // no key
		o := e.order(f.buyer, "order-1", body)
		if o.Status != "confirmed" || o.Payment.Status != "due" || o.Payment.ClientSecret != "" || o.Subtotal.Amount != 800000 ||
			o.Total.Amount != o.Subtotal.Amount+o.Shipping.Amount || len(o.Groups) != 2 || o.ExpiresAt != nil {
			t.Fatalf("order %+v", o)
		}
		if e.stock(f.vase.ID) != 3 || e.stock(f.basket.ID) != 4 {
			t.Fatalf("stock %d %d", e.stock(f.vase.ID), e.stock(f.basket.ID))
		}
		if again := e.order(f.buyer, "order-1", body); again.ID != o.ID || e.stock(f.vase.ID) != 3 {
			t.Fatalf("a retried order took stock again: %s, stock %d", again.ID, e.stock(f.vase.ID))
		}
		other := orderBodyOf("cash_on_delivery", item(f.vase.ID, 1))
		e.do("POST", "/api/v1/orders", other, bearer(f.buyer.AccessToken), header("Idempotency-Key", "order-1")).
			wantError(t, 409, "idempotency_key_reused")

		path := "/api/v1/orders/" + o.ID
		var seen orderBody
		e.do("GET", path, nil, bearer(f.manager.AccessToken)).decode(t, &seen)
		if len(seen.Items) != 1 || seen.Items[0].ProductID != f.vase.ID || len(seen.Groups) != 1 {
			t.Fatalf("a manager sees another group's lines: %+v", seen)
		}
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		for _, s := range []session{f.auditor, f.admin, f.buyer} {
			e.do("GET", path, nil, bearer(s.AccessToken)).wantStatus(t, 200)
		}
		stranger := e.register("stranger@example.pk", "buyer")
		e.do("GET", path, nil, bearer(stranger.AccessToken)).wantError(t, 404, "not_found")
		e.do("POST", path+"/cancel", nil, bearer(stranger.AccessToken)).wantError(t, 404, "not_found")

		ship := func(s session, group string) *response {
			return e.do("POST", path+"/shipments", map[string]any{"group_id": group, "carrier": "TCS", "tracking_number": "TCS-1"},
				bearer(s.AccessToken))
		}
		ship(f.other, f.group.ID).wantError(t, 404, "not_found")
		e.do("POST", path+"/deliver", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
			wantError(t, 409, "invalid_state") // not shipped yet
		ship(f.manager, f.group.ID).wantStatus(t, 200)
		ship(f.manager, f.group.ID).wantError(t, 409, "invalid_state")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).decode(t, &seen)
		if seen.Status != "confirmed" {
			t.Fatalf("one part shipped: order %s", seen.Status)
		}
		e.do("POST", path+"/cancel", nil, bearer(f.buyer.AccessToken)).wantError(t, 409, "invalid_state")
		ship(f.other, f.second.ID).wantStatus(t, 200)
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).decode(t, &seen)
		if seen.Status != "shipped" {
			t.Fatalf("every part shipped: order %s", seen.Status)
		}

		deliver := func(s session, group string, cash any) *response {
			body := map[string]any{"group_id": group}
			if cash != nil {
				body["cash_collected"] = cash
			}
			return e.do("POST", path+"/deliver", body, bearer(s.AccessToken))
		}
		var partA int64
		for _, g := range o.Groups {
			if g.GroupID == f.group.ID {
				partA = g.Amount.Amount
			}
		}
		if e := deliver(f.manager, f.group.ID, pkr(partA-1)).wantError(t, 422, "validation_failed"); e.Error.Fields["cash_collected.amount"] == "" {
			t.Errorf("fields %v", e.Error.Fields)
		}
		deliver(f.manager, f.group.ID, map[string]any{"amount": partA, "currency": "USD"}).wantError(t, 422, "validation_failed")
		if n := e.count("ledger_transactions", "1 = 1"); n != 0 {
			t.Fatalf("refused deliveries booked %d transactions", n)
		}
		deliver(f.manager, f.group.ID, pkr(partA)).wantStatus(t, 200)
		if n := e.count("ledger_transactions", "kind = 'cash_sale'"); n != 1 {
			t.Fatalf("%d cash sales booked for one part", n)
		}
		deliver(f.admin, f.second.ID, nil).wantStatus(t, 200)
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).decode(t, &seen)
		if seen.Status != "delivered" || seen.Payment.Status != "collected" || e.count("ledger_transactions", "kind = 'cash_sale'") != 2 {
			t.Fatalf("delivered order %+v", seen)
		}
		// The makers' payables hold their labour: 2 vases × (180 + 60 min) and 1 basket × 240 min at Rs 250/h.
		if got := e.accounts(f.group.ID, f.manager); got[f.public.ID+":payable"] != 2*75000 || got[f.private.ID+":payable"] != 2*25000 {
			t.Errorf("group accounts %v", got)
		}
		e.verifyLedger(f.auditor)

		var mine listBody[orderBody]
		e.do("GET", "/api/v1/orders", nil, bearer(f.buyer.AccessToken)).decode(t, &mine)
		var theirs listBody[orderBody]
		e.do("GET", "/api/v1/groups/"+f.second.ID+"/orders", nil, bearer(f.other.AccessToken)).decode(t, &theirs)
		if len(mine.Data) != 1 || len(theirs.Data) != 1 || len(theirs.Data[0].Items) != 1 || theirs.Data[0].Items[0].ProductID != f.basket.ID {
			t.Fatalf("lists: %+v %+v", mine.Data, theirs.Data)
		}
		e.do("GET", "/api/v1/groups/"+f.second.ID+"/orders", nil, bearer(f.manager.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/orders", nil, bearer(f.manager.AccessToken)).wantError(t, 403, "forbidden")
	})
}

func TestOrderValidationAndStock(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		key := 0
		post := func(s session, body map[string]any) *response {
			key++
			return e.do("POST", "/api/v1/orders", body, bearer(s.AccessToken), header("Idempotency-Key", fmt.Sprint("v", key)))
		}
		post(f.manager, orderBodyOf("cash_on_delivery", item(f.vase.ID, 1))).wantError(t, 403, "forbidden")
		addr := func(k string, v any) map[string]any {
			b := orderBodyOf("cash_on_delivery", item(f.vase.ID, 1))
			a := map[string]any{}
			for kk, vv := range address {
				a[kk] = vv
			}
			a[k] = v
			b["shipping_address"] = a
			return b
		}
		for _, bad := range []struct {
			field string
			body  map[string]any
		}{
			{"items", orderBodyOf("cash_on_delivery")},
			{"items[0].quantity", orderBodyOf("cash_on_delivery", item(f.vase.ID, 0))},
			{"items[0].quantity", orderBodyOf("cash_on_delivery", item(f.vase.ID, 1001))},
			{"items[1].product_id", orderBodyOf("cash_on_delivery", item(f.vase.ID, 1), item(f.vase.ID, 2))},
			{"items[0].product_id", orderBodyOf("cash_on_delivery", item(uuid.NewString(), 1))},
			{"items[0].product_id", orderBodyOf("cash_on_delivery", item("nope", 1))},
			{"payment_method", orderBodyOf("bitcoin", item(f.vase.ID, 1))},
			{"payment_method", orderBodyOf("card", item(f.vase.ID, 1))}, // no Stripe configured here
			{"shipping_address.country", addr("country", "Pakistan")},
			{"shipping_address.phone", addr("phone", "call me")},
			{"shipping_address.name", addr("name", "")},
		} {
			if e := post(f.buyer, bad.body).wantError(t, 422, "validation_failed"); e.Error.Fields[bad.field] == "" {
				t.Errorf("%s: fields %v", bad.field, e.Error.Fields)
			}
		}
		many := []any{}
		for range 51 {
			many = append(many, item(uuid.NewString(), 1))
		}
		post(f.buyer, orderBodyOf("cash_on_delivery", many...)).wantError(t, 422, "validation_failed")

		// Short stock on one line: 409 naming it, and nothing taken from the other.
		res := post(f.buyer, orderBodyOf("cash_on_delivery", item(f.basket.ID, 2), item(f.vase.ID, 6)))
		if e := res.wantError(t, 409, "insufficient_stock"); !strings.Contains(e.Error.Message, f.vase.ID) ||
			strings.Contains(e.Error.Message, f.basket.ID) {
			t.Errorf("message %q", e.Error.Message)
		}
		if e.stock(f.vase.ID) != 5 || e.stock(f.basket.ID) != 5 || e.count("orders", "1 = 1") != 0 {
			t.Fatalf("a refused order took stock: %d %d", e.stock(f.vase.ID), e.stock(f.basket.ID))
		}

		o := e.order(f.buyer, "cancel-me", orderBodyOf("cash_on_delivery", item(f.vase.ID, 5)))
		if e.stock(f.vase.ID) != 0 {
			t.Fatal("stock not taken")
		}
		post(f.buyer, orderBodyOf("cash_on_delivery", item(f.vase.ID, 1))).wantError(t, 409, "insufficient_stock")
		var c orderBody
		res = e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil, bearer(f.buyer.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &c)
		if c.Status != "cancelled" || e.stock(f.vase.ID) != 5 {
			t.Fatalf("cancelled %+v, stock %d", c, e.stock(f.vase.ID))
		}
		e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil, bearer(f.buyer.AccessToken)).wantError(t, 409, "invalid_state")
		e.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
			wantError(t, 409, "invalid_state")
	})
}

// Fifty buyers race for five units through two server instances on one
// database: exactly five orders succeed and the stock ends at zero.
func TestConcurrentCheckoutTwoInstances(t *testing.T) {
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
			f := newCatalogFixture(one)
			p := one.newProduct(f, f.product("Ralli quilt", "quilts", 300000), true) // stock 5
			buyers := make([]session, 50)
			for i := range buyers {
				buyers[i] = one.register(fmt.Sprintf("buyer%d@example.pk", i), "buyer")
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i, b := range buyers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := one
					if i%2 == 1 {
						e = two
					}
					res := e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(p.ID, 1)), bearer(b.AccessToken),
						header("Idempotency-Key", "race"))
					mu.Lock()
					codes[res.Code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if codes[201] != 5 || codes[409] != 45 || one.stock(p.ID) != 0 || one.count("orders", "1 = 1") != 5 {
				t.Fatalf("codes %v, stock %d, orders %d", codes, one.stock(p.ID), one.count("orders", "1 = 1"))
			}
		})
	}
}
