package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

type slotBody struct {
	ID            string `json:"id"`
	StartsAt      string `json:"starts_at"`
	StartsAtLocal string `json:"starts_at_local"`
	MaxOrders     int    `json:"max_orders"`
	OrdersLeft    int    `json:"orders_left"`
}

type foodBody struct {
	Ingredients     string   `json:"ingredients"`
	Allergens       []string `json:"allergens"`
	ShelfLifeDays   int      `json:"shelf_life_days"`
	LicenceNumber   *string  `json:"licence_number"`
	OrderCyclesOnly bool     `json:"order_cycles_only"`
}

type offerBody struct {
	ProductID    string    `json:"product_id"`
	GroupID      string    `json:"group_id"`
	MaxQuantity  *int      `json:"max_quantity"`
	QuantityLeft *int      `json:"quantity_left"`
	Available    bool      `json:"available"`
	Food         *foodBody `json:"food"`
}

type cycleBody struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	TimeZone      string `json:"time_zone"`
	OpensAt       string `json:"opens_at"`
	ClosesAt      string `json:"closes_at"`
	ClosesAtLocal string `json:"closes_at_local"`
	Coordinator   struct {
		ID string `json:"id"`
	} `json:"coordinator"`
	PickupPoints []struct {
		ID    string     `json:"id"`
		Name  string     `json:"name"`
		Slots []slotBody `json:"slots"`
	} `json:"pickup_points"`
	DeliveryZones []struct {
		ID        string     `json:"id"`
		Districts []string   `json:"districts"`
		Fee       money      `json:"fee"`
		Slots     []slotBody `json:"slots"`
	} `json:"delivery_zones"`
	Offers []offerBody `json:"offers"`
}

// cycleOrderBody is an order inside an order cycle.
type cycleOrderBody struct {
	orderBody
	OrderCycleID *string `json:"order_cycle_id"`
	SlotID       *string `json:"slot_id"`
	Groups       []struct {
		GroupID     string `json:"group_id"`
		Status      string `json:"status"`
		Amount      money  `json:"amount"`
		ShippingFee money  `json:"shipping_fee"`
	} `json:"groups"`
}

// pkt writes t as an RFC 3339 time in Pakistan's time, as a coordinator would.
func pkt(t time.Time) string { return t.In(models.Karachi).Format(time.RFC3339) }

func slot(start time.Time, hours, maxOrders int) map[string]any {
	return map[string]any{"starts_at": pkt(start), "ends_at": pkt(start.Add(time.Duration(hours) * time.Hour)), "max_orders": maxOrders}
}

// cycleRequest is a cycle open from an hour before now until closes, with a
// pickup point of two slots the morning after and a delivery zone (Lahore,
// Kasur; Rs 150) of one.
func cycleRequest(coordinator string, now, closes time.Time) map[string]any {
	day := closes.Add(15 * time.Hour)
	return map[string]any{
		"name": "Gulberg Sunday market", "coordinator_group_id": coordinator,
		"opens_at": pkt(now.Add(-time.Hour)), "closes_at": pkt(closes),
		"pickup_points": []map[string]any{{"name": "Stall 14, Gulberg market", "address": "Main Boulevard, Gulberg III",
			"district": "Lahore", "slots": []map[string]any{slot(day, 2, 3), slot(day.Add(2*time.Hour), 2, 3)}}},
		"delivery_zones": []map[string]any{{"name": "Lahore and Kasur", "districts": []string{"Lahore", "Kasur"}, "fee": pkr(15000),
			"slots": []map[string]any{slot(day, 4, 5)}}},
	}
}

func (e *env) newCycle(s session, body map[string]any) cycleBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/order-cycles", body, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	var c cycleBody
	res.decode(e.t, &c)
	return c
}

func (e *env) getCycle(id string) cycleBody {
	e.t.Helper()
	res := e.do("GET", "/api/v1/order-cycles/"+id, nil)
	res.wantStatus(e.t, http.StatusOK)
	var c cycleBody
	res.decode(e.t, &c)
	return c
}

func (e *env) offer(s session, cycleID, productID string, max any) *response {
	e.t.Helper()
	body := map[string]any{"product_id": productID}
	if max != nil {
		body["max_quantity"] = max
	}
	return e.do("POST", "/api/v1/order-cycles/"+cycleID+"/offers", body, bearer(s.AccessToken))
}

func foodFacts(days int) map[string]any {
	return map[string]any{"ingredients": "chickpeas, semolina, ghee, sugar, cardamom", "allergens": []string{"milk", "gluten"},
		"shelf_life_days": days, "licence_number": "PFA-LHR-12345"}
}

// cycleFixture is two groups (the first coordinates), fresh halwa of the
// first (keeps 3 days, stock 20) and mango achar of the second (180 days,
// stock 50).
type cycleFixture struct {
	twoGroups
	halwa, achar productBody
}

func newCycleFixture(e *env) cycleFixture {
	t := e.t
	f := cycleFixture{twoGroups: newTwoGroups(e)}
	body := f.product("Suji halwa, 1 kg", "food", 300000)
	body["stock"], body["food"] = 20, foodFacts(3)
	f.halwa = e.newProduct(f.catalogFixture, body, true)
	body = f.product("Mango achar, 1 kg", "pickles", 200000)
	body["stock"], body["food"] = 50, map[string]any{"ingredients": "raw mango, mustard oil, salt", "shelf_life_days": 180}
	body["makers"] = []map[string]any{{"artisan_id": f.secondArtisan.ID, "labor_minutes": 240}}
	res := e.do("POST", "/api/v1/groups/"+f.second.ID+"/products", body, bearer(f.other.AccessToken))
	res.wantStatus(t, http.StatusCreated)
	res.decode(t, &f.achar)
	e.do("POST", "/api/v1/products/"+f.achar.ID+"/publish", nil, bearer(f.other.AccessToken)).wantStatus(t, http.StatusOK)
	return f
}

func cycleOrder(cycleID, slotID string, items ...any) map[string]any {
	b := orderBodyOf("cash_on_delivery", items...)
	b["order_cycle_id"], b["slot_id"] = cycleID, slotID
	return b
}

// A clock the test moves; tokens keep real time (withOrderClock).
type testClock struct{ at atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.set(t)
	return c
}
func (c *testClock) set(t time.Time)     { c.at.Store(t.UnixNano()) }
func (c *testClock) now() time.Time      { return time.Unix(0, c.at.Load()) }
func (c *testClock) add(d time.Duration) { c.at.Add(int64(d)) }

// The whole of a Sunday market: a cycle with a pickup point and a delivery
// zone, offers from two groups, fresh food sold only inside it, checkout
// inside it, closing by the clock, the production and packing lists (JSON
// and CSV), and handovers that book the cash as a delivery does.
func TestOrderCycleFromOffersToHandover(t *testing.T) {
	clock := newTestClock(time.Now().UTC())
	eachDB(t, func(t *testing.T, e *env) {
		start := time.Now().UTC().Truncate(time.Second)
		clock.set(start)
		f := newCycleFixture(e)
		closes := start.Add(2 * time.Hour)
		c := e.newCycle(f.manager, cycleRequest(f.group.ID, start, closes))
		if c.Status != "open" || c.TimeZone != "Asia/Karachi" || c.Coordinator.ID != f.group.ID || len(c.PickupPoints) != 1 ||
			len(c.PickupPoints[0].Slots) != 2 || len(c.DeliveryZones) != 1 || c.DeliveryZones[0].Fee.Amount != 15000 {
			t.Fatalf("cycle %+v", c)
		}
		if want := closes.In(models.Karachi).Format(time.RFC3339); c.ClosesAtLocal != want || !strings.HasSuffix(c.ClosesAtLocal, "+05:00") ||
			!strings.HasSuffix(c.ClosesAt, "Z") {
			t.Errorf("closes_at %s, local %s; want local %s", c.ClosesAt, c.ClosesAtLocal, want)
		}
		pickup, later, zone := c.PickupPoints[0].Slots[0], c.PickupPoints[0].Slots[1], c.DeliveryZones[0].Slots[0]
		if pickup.OrdersLeft != 3 || zone.OrdersLeft != 5 {
			t.Fatalf("slots %+v %+v", pickup, zone)
		}

		// Offers: each group its own products, once; nobody another group's.
		e.offer(f.manager, c.ID, f.halwa.ID, 5).wantStatus(t, http.StatusCreated)
		e.offer(f.other, c.ID, f.achar.ID, nil).wantStatus(t, http.StatusCreated)
		if res := e.offer(f.other, c.ID, f.vase.ID, nil).wantError(t, 422, "validation_failed"); res.Error.Fields["product_id"] == "" {
			t.Errorf("fields %v", res.Error.Fields)
		}
		e.offer(f.manager, c.ID, f.halwa.ID, nil).wantError(t, 409, "conflict")
		e.offer(f.buyer, c.ID, f.vase.ID, nil).wantError(t, 403, "forbidden")
		e.offer(f.manager, uuid.NewString(), f.vase.ID, nil).wantError(t, 404, "not_found")
		c = e.getCycle(c.ID)
		if len(c.Offers) != 2 || c.Offers[0].Food == nil || !c.Offers[1].Available {
			t.Fatalf("offers %+v", c.Offers)
		}

		// The public list filters by the clock.
		var open, upcoming listBody[cycleBody]
		e.do("GET", "/api/v1/order-cycles?status=open", nil).decode(t, &open)
		e.do("GET", "/api/v1/order-cycles?status=upcoming", nil).decode(t, &upcoming)
		if len(open.Data) != 1 || open.Data[0].ID != c.ID || len(upcoming.Data) != 0 {
			t.Fatalf("open %+v, upcoming %+v", open.Data, upcoming.Data)
		}
		e.do("GET", "/api/v1/order-cycles?status=soon", nil).wantError(t, 400, "bad_request")

		// Fresh food is sold only inside a cycle; the achar, which keeps, also outside.
		key := 0
		post := func(body map[string]any) *response {
			key++
			return e.do("POST", "/api/v1/orders", body, bearer(f.buyer.AccessToken), header("Idempotency-Key", fmt.Sprint("c", key)))
		}
		res := post(orderBodyOf("cash_on_delivery", item(f.halwa.ID, 1)))
		if e := res.wantError(t, 422, "validation_failed"); !strings.Contains(e.Error.Fields["items[0].product_id"], "order cycle") {
			t.Errorf("fields %v", e.Error.Fields)
		}
		post(orderBodyOf("cash_on_delivery", item(f.achar.ID, 1))).wantStatus(t, http.StatusCreated)

		// Checkout inside the cycle.
		var atStall cycleOrderBody
		res = post(cycleOrder(c.ID, pickup.ID, item(f.halwa.ID, 2), item(f.achar.ID, 1)))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &atStall)
		if atStall.OrderCycleID == nil || *atStall.OrderCycleID != c.ID || *atStall.SlotID != pickup.ID || atStall.Shipping.Amount != 0 ||
			atStall.Total.Amount != 2*300000+200000 || atStall.Status != "confirmed" {
			t.Fatalf("order at the stall %+v", atStall)
		}
		var delivered cycleOrderBody
		res = post(cycleOrder(c.ID, zone.ID, item(f.achar.ID, 2), item(f.halwa.ID, 1)))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &delivered)
		if delivered.Shipping.Amount != 15000 || delivered.Total.Amount != 300000+2*200000+15000 {
			t.Fatalf("delivered order %+v", delivered)
		}
		for _, g := range delivered.Groups {
			// The zone's fee once, on the coordinating group's part; no group's courier fee.
			if want := map[bool]int64{true: 15000, false: 0}[g.GroupID == f.group.ID]; g.ShippingFee.Amount != want {
				t.Errorf("part of %s: shipping %d, want %d", g.GroupID, g.ShippingFee.Amount, want)
			}
		}
		var cancelled cycleOrderBody
		res = post(cycleOrder(c.ID, later.ID, item(f.halwa.ID, 1)))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &cancelled)

		far := cycleOrder(c.ID, zone.ID, item(f.halwa.ID, 1))
		far["shipping_address"] = map[string]any{"name": "Sana", "line1": "House 1", "city": "Karachi", "country": "PK", "phone": "+92 300 7654321"}
		if e := post(far).wantError(t, 422, "validation_failed"); e.Error.Fields["shipping_address.city"] == "" {
			t.Errorf("fields %v", e.Error.Fields)
		}
		if e := post(cycleOrder(c.ID, pickup.ID, item(f.halwa.ID, 1), item(f.vase.ID, 1))).wantError(t, 422, "validation_failed"); e.Error.Fields["items[1].product_id"] == "" {
			t.Errorf("a product not offered: fields %v", e.Error.Fields)
		}
		other := e.newCycle(f.manager, cycleRequest(f.group.ID, start, closes))
		if e := post(cycleOrder(c.ID, other.PickupPoints[0].Slots[0].ID, item(f.halwa.ID, 1))).wantError(t, 422, "validation_failed"); e.Error.Fields["slot_id"] == "" {
			t.Errorf("another cycle's slot: fields %v", e.Error.Fields)
		}
		// The halwa offer's cap: 5, of which 4 are taken.
		if e := post(cycleOrder(c.ID, later.ID, item(f.halwa.ID, 2))).wantError(t, 409, "insufficient_stock"); !strings.Contains(e.Error.Message, f.halwa.ID) {
			t.Errorf("message %q", e.Error.Message)
		}
		e.do("POST", "/api/v1/orders/"+atStall.ID+"/shipments", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).
			wantError(t, 409, "invalid_state")

		// A cancellation while the cycle is open gives back the slot's place and the offer's units.
		e.do("POST", "/api/v1/orders/"+cancelled.ID+"/cancel", nil, bearer(f.buyer.AccessToken)).wantStatus(t, http.StatusOK)
		c = e.getCycle(c.ID)
		if c.PickupPoints[0].Slots[0].OrdersLeft != 2 || c.PickupPoints[0].Slots[1].OrdersLeft != 3 || c.DeliveryZones[0].Slots[0].OrdersLeft != 4 ||
			*c.Offers[0].QuantityLeft != 2 || e.stock(f.halwa.ID) != 17 || e.stock(f.achar.ID) != 46 {
			t.Fatalf("after a cancellation: cycle %+v, stock %d %d", c, e.stock(f.halwa.ID), e.stock(f.achar.ID))
		}
		e.do("GET", "/api/v1/order-cycles/"+c.ID+"/production", nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
		e.do("GET", "/api/v1/order-cycles/"+c.ID+"/packing", nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
		handover := func(s session, orderID string, body any) *response {
			return e.do("POST", "/api/v1/order-cycles/"+c.ID+"/orders/"+orderID+"/handover", body, bearer(s.AccessToken))
		}
		handover(f.manager, atStall.ID, nil).wantError(t, 409, "invalid_state")

		// The cycle closes by the clock alone.
		clock.set(closes.Add(time.Second))
		post(cycleOrder(c.ID, pickup.ID, item(f.halwa.ID, 1))).wantError(t, 409, "cycle_closed")
		e.do("POST", "/api/v1/orders/"+atStall.ID+"/cancel", nil, bearer(f.buyer.AccessToken)).wantError(t, 409, "cycle_closed")
		e.offer(f.other, c.ID, f.basket.ID, nil).wantError(t, 409, "cycle_closed")
		if got := e.getCycle(c.ID); got.Status != "closed" {
			t.Fatalf("status %s after closes_at", got.Status)
		}

		// The production list: every group's for the coordinator, her own for another group's manager.
		type production struct {
			Groups []struct {
				GroupID  string `json:"group_id"`
				Products []struct {
					ProductID string `json:"product_id"`
					Quantity  int    `json:"quantity"`
					Slots     []struct {
						SlotID   string `json:"slot_id"`
						Quantity int    `json:"quantity"`
					} `json:"slots"`
				} `json:"products"`
			} `json:"groups"`
		}
		var all, theirs production
		path := "/api/v1/order-cycles/" + c.ID
		e.do("GET", path+"/production", nil, bearer(f.manager.AccessToken)).decode(t, &all)
		e.do("GET", path+"/production", nil, bearer(f.other.AccessToken)).decode(t, &theirs)
		made := map[string]int{}
		bySlot := map[string]int{}
		for _, g := range all.Groups {
			for _, p := range g.Products {
				made[p.ProductID] = p.Quantity
				for _, s := range p.Slots {
					bySlot[p.ProductID+"@"+s.SlotID] = s.Quantity
				}
			}
		}
		want := map[string]int{f.halwa.ID + "@" + pickup.ID: 2, f.achar.ID + "@" + pickup.ID: 1, f.halwa.ID + "@" + zone.ID: 1,
			f.achar.ID + "@" + zone.ID: 2}
		if len(all.Groups) != 2 || made[f.halwa.ID] != 3 || made[f.achar.ID] != 3 || fmt.Sprint(bySlot) != fmt.Sprint(want) {
			t.Fatalf("production %+v, by slot %v", all, bySlot)
		}
		if len(theirs.Groups) != 1 || theirs.Groups[0].GroupID != f.second.ID {
			t.Fatalf("the second group's manager sees %+v", theirs)
		}
		e.do("GET", path+"/production", nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		res = e.do("GET", path+"/production?format=csv", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		rows := readCSV(t, res.Body)
		if len(rows) != 5 || rows[0][0] != "group_id" || rows[0][8] != "quantity" {
			t.Fatalf("production CSV %q", rows)
		}

		// The packing list: the coordinator's, with each buyer's name and phone, and the address of a delivery.
		type packing struct {
			Places []struct {
				Kind  string `json:"kind"`
				Slots []struct {
					ID     string `json:"id"`
					Orders []struct {
						OrderID string `json:"order_id"`
						Buyer   struct {
							Name  string `json:"name"`
							Phone string `json:"phone"`
						} `json:"buyer"`
						DeliveryAddress *struct {
							City string `json:"city"`
						} `json:"delivery_address"`
						Items []struct {
							ProductID string `json:"product_id"`
							Quantity  int    `json:"quantity"`
						} `json:"items"`
						Total money `json:"total"`
					} `json:"orders"`
				} `json:"slots"`
			} `json:"places"`
		}
		var p packing
		res = e.do("GET", path+"/packing", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &p)
		if len(p.Places) != 2 || p.Places[0].Kind != "pickup_point" || len(p.Places[0].Slots) != 2 || p.Places[1].Kind != "delivery_zone" {
			t.Fatalf("packing %+v", p)
		}
		stall, round := p.Places[0].Slots[0].Orders, p.Places[1].Slots[0].Orders
		if len(stall) != 1 || stall[0].OrderID != atStall.ID || stall[0].Buyer.Name != "Ayesha Khan" || stall[0].Buyer.Phone != "+92 300 1234567" ||
			stall[0].DeliveryAddress != nil || len(stall[0].Items) != 2 || stall[0].Total.Amount != atStall.Total.Amount ||
			len(p.Places[0].Slots[1].Orders) != 0 {
			t.Fatalf("the stall's orders %+v", p.Places[0].Slots)
		}
		if len(round) != 1 || round[0].OrderID != delivered.ID || round[0].DeliveryAddress == nil || round[0].DeliveryAddress.City != "Lahore" {
			t.Fatalf("the zone's orders %+v", round)
		}
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		for _, s := range []session{f.other, f.buyer, f.auditor} {
			e.do("GET", path+"/packing", nil, bearer(s.AccessToken)).wantError(t, 403, "forbidden")
		}
		res = e.do("GET", path+"/packing", nil, bearer(f.admin.AccessToken), header("Accept", "text/csv"))
		res.wantStatus(t, http.StatusOK)
		rows = readCSV(t, res.Body)
		if len(rows) != 5 || rows[0][7] != "buyer_name" || rows[1][7] != "Ayesha Khan" || rows[1][14] != "8000.00" {
			t.Fatalf("packing CSV %q", rows)
		}

		// Handovers: only the coordinator; the cash must be the total; the sale is booked once and the books verify.
		handover(f.other, atStall.ID, nil).wantError(t, 403, "forbidden")
		handover(f.manager, uuid.NewString(), nil).wantError(t, 404, "not_found")
		if e := handover(f.manager, atStall.ID, map[string]any{"cash_collected": pkr(atStall.Total.Amount - 1)}).
			wantError(t, 422, "validation_failed"); e.Error.Fields["cash_collected.amount"] == "" {
			t.Errorf("fields %v", e.Error.Fields)
		}
		if n := e.count("ledger_transactions", "1 = 1"); n != 0 {
			t.Fatalf("a refused handover booked %d transactions", n)
		}
		var done cycleOrderBody
		res = handover(f.manager, atStall.ID, map[string]any{"cash_collected": pkr(atStall.Total.Amount)})
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &done)
		if done.Status != "delivered" || done.Payment.Status != "collected" {
			t.Fatalf("handed over %+v", done)
		}
		handover(f.admin, delivered.ID, nil).wantStatus(t, http.StatusOK)
		handover(f.manager, atStall.ID, nil).wantError(t, 409, "invalid_state")
		handover(f.manager, cancelled.ID, nil).wantError(t, 409, "invalid_state") // cancelled: not in the lists, never handed over
		handover(f.manager, f.vase.ID, nil).wantError(t, 404, "not_found")        // no order of this cycle
		if n := e.count("ledger_transactions", "kind = 'cash_sale'"); n != 4 {
			t.Fatalf("%d cash sales booked for two orders of two lines", n)
		}
		// What was booked is what the orders say: goods and the zone's fee, to the coordinating group's shipping.
		received := e.booked(atStall.ID)["cash_receipts"] + e.booked(delivered.ID)["cash_receipts"]
		if received != -(atStall.Total.Amount + delivered.Total.Amount) {
			t.Errorf("cash receipts %d, want %d", received, -(atStall.Total.Amount + delivered.Total.Amount))
		}
		if got := e.accounts(f.group.ID, f.manager); got["shipping"] != 15000 {
			t.Errorf("the coordinating group's accounts %v", got)
		}
		e.verifyLedger(f.auditor)
	}, withOrderClock(func() time.Time { return clock.now() }))
}

func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q: %v", body, err)
	}
	return rows
}

// Every kind of bad cycle, offer and food is refused with 422 naming the
// field, and nothing is written.
func TestOrderCycleValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCycleFixture(e)
		now := time.Now().UTC()
		closes := now.Add(2 * time.Hour)
		change := func(fn func(b map[string]any)) map[string]any {
			b := cycleRequest(f.group.ID, now, closes)
			fn(b)
			return b
		}
		pickupSlots := func(b map[string]any, slots ...map[string]any) {
			b["pickup_points"].([]map[string]any)[0]["slots"] = slots
		}
		day := closes.Add(15 * time.Hour)
		for _, bad := range []struct {
			name, field string
			body        map[string]any
		}{
			{"closes before it opens", "closes_at", change(func(b map[string]any) { b["closes_at"] = pkt(now.Add(-2 * time.Hour)) })},
			{"closed already", "closes_at", change(func(b map[string]any) {
				b["opens_at"], b["closes_at"] = pkt(now.Add(-3*time.Hour)), pkt(now.Add(-time.Hour))
			})},
			{"a slot that ends before it starts", "pickup_points[0].slots[0].ends_at", change(func(b map[string]any) {
				pickupSlots(b, map[string]any{"starts_at": pkt(day), "ends_at": pkt(day.Add(-time.Hour)), "max_orders": 3})
			})},
			{"overlapping slots", "pickup_points[0].slots[1]", change(func(b map[string]any) {
				pickupSlots(b, slot(day, 2, 3), slot(day.Add(time.Hour), 2, 3))
			})},
			{"a slot before the cycle closes", "pickup_points[0].slots[0].starts_at", change(func(b map[string]any) {
				pickupSlots(b, slot(now, 1, 3))
			})},
			{"a slot of no orders", "pickup_points[0].slots[0].max_orders", change(func(b map[string]any) { pickupSlots(b, slot(day, 1, 0)) })},
			{"a zone with no districts", "delivery_zones[0].districts", change(func(b map[string]any) {
				b["delivery_zones"].([]map[string]any)[0]["districts"] = []string{}
			})},
			{"a zone without its fee", "delivery_zones[0].fee", change(func(b map[string]any) {
				delete(b["delivery_zones"].([]map[string]any)[0], "fee")
			})},
			{"nowhere to hand orders over", "pickup_points", change(func(b map[string]any) {
				b["pickup_points"], b["delivery_zones"] = []any{}, []any{}
			})},
			{"a group the caller does not manage", "coordinator_group_id", cycleRequest(f.second.ID, now, closes)},
			{"a pending group", "coordinator_group_id", cycleRequest(f.pending.ID, now, closes)},
		} {
			t.Run(bad.name, func(t *testing.T) {
				res := e.do("POST", "/api/v1/order-cycles", bad.body, bearer(f.manager.AccessToken))
				if e := res.wantError(t, 422, "validation_failed"); e.Error.Fields[bad.field] == "" {
					t.Errorf("fields %v, want %s", e.Error.Fields, bad.field)
				}
			})
		}
		e.do("POST", "/api/v1/order-cycles", cycleRequest(f.group.ID, now, closes), bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", "/api/v1/order-cycles", cycleRequest(f.group.ID, now, closes)).wantError(t, 401, "unauthorized")
		if n := e.count("order_cycles", "1 = 1") + e.count("cycle_slots", "1 = 1") + e.count("cycle_pickup_points", "1 = 1"); n != 0 {
			t.Fatalf("refused cycles wrote %d rows", n)
		}

		c := e.newCycle(f.manager, cycleRequest(f.group.ID, now, closes))
		if e := e.offer(f.manager, c.ID, f.achar.ID, nil).wantError(t, 422, "validation_failed"); e.Error.Fields["product_id"] == "" {
			t.Errorf("another group's product: fields %v", e.Error.Fields)
		}
		draft := e.newProduct(f.catalogFixture, f.product("Draft vase", "pottery", 300000), false)
		e.offer(f.manager, c.ID, draft.ID, nil).wantError(t, 422, "validation_failed")
		e.offer(f.manager, c.ID, f.halwa.ID, 0).wantError(t, 422, "validation_failed")
		if n := e.count("cycle_offers", "1 = 1"); n != 0 {
			t.Fatalf("refused offers wrote %d rows", n)
		}

		// Food: its facts are required for the food categories, checked, and refused for others.
		create := "/api/v1/groups/" + f.group.ID + "/products"
		before := e.count("products", "1 = 1")
		for _, bad := range []struct {
			name, field string
			category    string
			food        any
		}{
			{"food without ingredients", "food.ingredients", "food", map[string]any{"allergens": []string{}, "shelf_life_days": 3}},
			{"food with empty ingredients", "food.ingredients", "pickles", map[string]any{"ingredients": "  ", "shelf_life_days": 30}},
			{"food without its facts", "food", "food", nil},
			{"food without a shelf life", "food.shelf_life_days", "food", map[string]any{"ingredients": "dates"}},
			{"a shelf life of none", "food.shelf_life_days", "food", map[string]any{"ingredients": "dates", "shelf_life_days": 0}},
			{"food facts on pottery", "food", "pottery", foodFacts(3)},
		} {
			body := f.product("Barfi", bad.category, 300000)
			if bad.food != nil {
				body["food"] = bad.food
			}
			res := e.do("POST", create, body, bearer(f.manager.AccessToken))
			if e := res.wantError(t, 422, "validation_failed"); e.Error.Fields[bad.field] == "" {
				t.Errorf("%s: fields %v, want %s", bad.name, e.Error.Fields, bad.field)
			}
		}
		if n := e.count("products", "1 = 1"); n != before {
			t.Fatalf("refused products wrote %d rows", n-before)
		}
		var p productBody
		var withFood struct {
			Food *foodBody `json:"food"`
		}
		res := e.do("GET", "/api/v1/products/"+f.halwa.ID, nil)
		res.decode(t, &withFood)
		if withFood.Food == nil || withFood.Food.ShelfLifeDays != 3 || !withFood.Food.OrderCyclesOnly || len(withFood.Food.Allergens) != 2 {
			t.Fatalf("halwa's food %+v", withFood.Food)
		}
		// Moved out of the food categories, a product loses its food facts.
		res = e.do("PATCH", "/api/v1/products/"+f.halwa.ID, map[string]any{"category": "pottery"}, bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &p)
		e.do("GET", "/api/v1/products/"+f.halwa.ID, nil).decode(t, &withFood)
		if p.Category != "pottery" || withFood.Food != nil {
			t.Fatalf("moved to pottery: %+v, food %+v", p, withFood.Food)
		}
		res = e.do("PATCH", "/api/v1/products/"+f.halwa.ID, map[string]any{"category": "food"}, bearer(f.manager.AccessToken))
		if e := res.wantError(t, 422, "validation_failed"); e.Error.Fields["food"] == "" {
			t.Errorf("back to food without facts: fields %v", e.Error.Fields)
		}
	})
}

// Limits hold through two server instances on one database: 100 buyers
// racing for a slot of 10 orders place exactly 10; 100 racing for an
// offer capped at 7 units buy exactly 7. Ordinary checkouts of the same
// products run alongside (20 each time), in the other lock order's reach,
// and none deadlocks or fails. Under -short (CI's race run, after the
// full size has run on SQLite) 30 buyers race and 10 ordinary checkouts
// run alongside: still three times the slot and four times the offer.
func TestOrderCycleLimitsHoldAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	racers, alongside := 100, 20
	if testing.Short() {
		racers, alongside = 30, 10
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
			f := newCycleFixture(one)
			if err := one.db.Exec("UPDATE products SET stock = 1000").Error; err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			closes := now.Add(time.Hour)
			body := cycleRequest(f.group.ID, now, closes)
			day := closes.Add(15 * time.Hour)
			body["pickup_points"].([]map[string]any)[0]["slots"] = []map[string]any{slot(day, 2, 10), slot(day.Add(2*time.Hour), 2, 1000)}
			c := one.newCycle(f.manager, body)
			small, large := c.PickupPoints[0].Slots[0], c.PickupPoints[0].Slots[1]
			one.offer(f.manager, c.ID, f.halwa.ID, 7).wantStatus(t, http.StatusCreated)
			one.offer(f.other, c.ID, f.achar.ID, nil).wantStatus(t, http.StatusCreated)
			buyers := make([]session, 10)
			for i := range buyers {
				buyers[i] = one.register(fmt.Sprintf("market%d@example.pk", i), "buyer")
			}

			// race sends n checkouts inside the cycle and alongside ordinary checkouts of the achar,
			// all at once, half through each instance, and counts the answers by status and code.
			race := func(name string, n int, order func(i int) map[string]any) (inCycle, ordinary map[string]int) {
				var mu sync.Mutex
				inCycle, ordinary = map[string]int{}, map[string]int{}
				inParallel(n+alongside, func(i int) {
					e := one
					if i%2 == 1 {
						e = two
					}
					body, counts := orderBodyOf("cash_on_delivery", item(f.achar.ID, 1)), ordinary
					if i < n {
						body, counts = order(i), inCycle
					}
					res := e.do("POST", "/api/v1/orders", body, bearer(buyers[i%len(buyers)].AccessToken),
						header("Idempotency-Key", fmt.Sprintf("%s-%d", name, i)))
					var ae apiError
					if res.Code != http.StatusCreated {
						res.decode(t, &ae)
					}
					mu.Lock()
					counts[fmt.Sprint(res.Code, ae.Error.Code)]++
					mu.Unlock()
				})
				return inCycle, ordinary
			}

			// A slot of 10 orders.
			inCycle, ordinary := race("slot", racers, func(int) map[string]any { return cycleOrder(c.ID, small.ID, item(f.achar.ID, 1)) })
			if inCycle["201"] != 10 || inCycle["409slot_full"] != racers-10 || ordinary["201"] != alongside {
				t.Fatalf("into a slot of 10: %v; ordinary checkouts alongside: %v", inCycle, ordinary)
			}
			if n := one.count("orders", "cycle_slot_id = ?", small.ID); n != 10 {
				t.Fatalf("%d orders in a slot of 10", n)
			}
			if got := one.getCycle(c.ID); got.PickupPoints[0].Slots[0].OrdersLeft != 0 || one.stock(f.achar.ID) != int64(1000-10-alongside) {
				t.Fatalf("slot %+v, achar stock %d", got.PickupPoints[0].Slots[0], one.stock(f.achar.ID))
			}

			// An offer of 7 units, ordered with the uncapped achar in either line order.
			inCycle, ordinary = race("offer", racers, func(i int) map[string]any {
				if i%2 == 0 {
					return cycleOrder(c.ID, large.ID, item(f.halwa.ID, 1), item(f.achar.ID, 1))
				}
				return cycleOrder(c.ID, large.ID, item(f.achar.ID, 1), item(f.halwa.ID, 1))
			})
			if inCycle["201"] != 7 || inCycle["409insufficient_stock"] != racers-7 || ordinary["201"] != alongside {
				t.Fatalf("for an offer of 7: %v; ordinary checkouts alongside: %v", inCycle, ordinary)
			}
			var sold int64
			if err := one.db.Table("order_lines l").Joins("JOIN orders o ON o.id = l.order_id").
				Where("o.order_cycle_id = ? AND l.product_id = ?", c.ID, f.halwa.ID).Select("coalesce(sum(l.quantity), 0)").
				Scan(&sold).Error; err != nil {
				t.Fatal(err)
			}
			got := one.getCycle(c.ID)
			var halwa offerBody
			for _, o := range got.Offers {
				if o.ProductID == f.halwa.ID {
					halwa = o
				}
			}
			if sold != 7 || one.stock(f.halwa.ID) != 1000-7 || *halwa.QuantityLeft != 0 || halwa.Available ||
				got.PickupPoints[0].Slots[1].OrdersLeft != 1000-7 || one.stock(f.achar.ID) != int64(1000-10-alongside-7-alongside) {
				t.Fatalf("sold %d, halwa stock %d, offer %+v, slot %+v, achar stock %d", sold, one.stock(f.halwa.ID), halwa,
					got.PickupPoints[0].Slots[1], one.stock(f.achar.ID))
			}
		})
	}
}
