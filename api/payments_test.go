package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/karigar/karigar/services/payments"
	"github.com/karigar/karigar/services/payments/stripemock"
)

const webhookSecret = "whsec_karigar_test"

// withStripe gives the env the real stripe-go client against stripe-mock.
func withStripe(t *testing.T) envOption {
	p, err := payments.NewStripe(payments.StripeOptions{SecretKey: stripemock.Key, WebhookSecret: webhookSecret,
		APIBase: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	return func(c envConfig) { c.wiring.Payments = p }
}

// webhookEvent is a Stripe event body about an order's payment intent.
func webhookEvent(t *testing.T, id, typ string, o orderBody, amount int64) []byte {
	t.Helper()
	object := map[string]any{"id": o.Payment.ProviderRef, "object": "payment_intent", "amount": amount, "currency": "pkr",
		"status": "succeeded", "metadata": map[string]string{"order_id": o.ID}}
	if typ == "charge.refunded" {
		object = map[string]any{"id": "ch_" + id, "object": "charge", "amount": amount, "amount_refunded": amount,
			"currency": "pkr", "refunded": true, "payment_intent": o.Payment.ProviderRef, "metadata": map[string]string{}}
	}
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": "2023-10-16", "created": 1700000000,
		"livemode": false, "type": typ, "data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliverWebhook posts a body to the webhook signed with secret at a time.
func (e *env) deliverWebhook(body []byte, secret string, at time.Time) *response {
	e.t.Helper()
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	req := httptest.NewRequest("POST", "/api/v1/webhooks/stripe", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sig)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	res := &response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.spec.check(e.t, "POST", "/api/v1/webhooks/stripe", req.Header, res)
	return res
}

func outcome(t *testing.T, res *response) string {
	t.Helper()
	res.wantStatus(t, 200)
	var ack struct {
		Outcome string `json:"outcome"`
	}
	res.decode(t, &ack)
	return ack.Outcome
}

func (e *env) orderStatus(s session, id string) orderBody {
	e.t.Helper()
	var o orderBody
	res := e.do("GET", "/api/v1/orders/"+id, nil, bearer(s.AccessToken))
	res.wantStatus(e.t, http.StatusOK)
	res.decode(e.t, &o)
	return o
}

// withOrderClock sets the orders service's clock only (tokens keep real time).
func withOrderClock(now func() time.Time) envOption {
	return func(c envConfig) { c.wiring.Clocks.Orders = now }
}

// A card order is paid by the webhook: delivered five times, two of them
// at once, it books one sale; forged and stale signatures change nothing.
func TestCardOrderPaidOnceByWebhook(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		o := e.order(f.buyer, "card-1", orderBodyOf("card", item(f.vase.ID, 1), item(f.basket.ID, 1)))
		if o.Status != "pending_payment" || o.Payment.Status != "pending" || !strings.HasPrefix(o.Payment.ProviderRef, "pi_") ||
			o.Payment.ClientSecret == "" || o.ExpiresAt == nil || e.stock(f.vase.ID) != 4 {
			t.Fatalf("card order %+v", o)
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Payment.ClientSecret != "" {
			t.Fatal("the client secret is shown again after the order was created")
		}
		paid := webhookEvent(t, "evt_paid", "payment_intent.succeeded", o, o.Total.Amount)
		now := time.Now()

		for _, bad := range []struct {
			secret string
			at     time.Time
		}{{"whsec_forged", now}, {webhookSecret, now.Add(-time.Hour)}} {
			e.deliverWebhook(paid, bad.secret, bad.at).wantError(t, 400, "bad_request")
		}
		req := httptest.NewRequest("POST", "/api/v1/webhooks/stripe", strings.NewReader(string(paid)))
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 400 || e.orderStatus(f.buyer, o.ID).Status != "pending_payment" || e.count("stripe_events", "1 = 1") != 0 {
			t.Fatalf("an unsigned or forged event changed something: %d", rec.Code)
		}

		var wg sync.WaitGroup
		outcomes := make([]string, 5)
		for i := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outcomes[i] = outcome(t, e.deliverWebhook(paid, webhookSecret, now))
			}()
			if i >= 1 {
				wg.Wait() // the first two race; the rest come later
			}
		}
		wg.Wait()
		applied := 0
		for _, oc := range outcomes {
			if oc == "applied" {
				applied++
			} else if oc != "duplicate" {
				t.Errorf("outcome %q", oc)
			}
		}
		if applied != 1 || e.count("ledger_transactions", "kind = 'sale'") != 2 {
			t.Fatalf("five deliveries applied %d times, %d sale transactions", applied, e.count("ledger_transactions", "kind = 'sale'"))
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Status != "paid" || got.Payment.Status != "succeeded" {
			t.Fatalf("paid order %+v", got)
		}
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_other", "customer.created", o, 0), webhookSecret, now)); oc != "ignored" {
			t.Errorf("unknown type: %s", oc)
		}
		// A later failure event for a paid order changes nothing.
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_fail", "payment_intent.payment_failed", o, o.Total.Amount), webhookSecret, now)); oc != "ignored" {
			t.Errorf("failure after payment: %s", oc)
		}

		// Shipped by both groups, then refunded from Stripe's dashboard: the refund is booked once.
		for _, g := range []struct {
			s  session
			id string
		}{{f.manager, f.group.ID}, {f.other, f.second.ID}} {
			e.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"group_id": g.id}, bearer(g.s.AccessToken)).wantStatus(t, 200)
		}
		refunded := webhookEvent(t, "evt_refund", "charge.refunded", o, o.Total.Amount)
		for range 2 {
			e.deliverWebhook(refunded, webhookSecret, now).wantStatus(t, 200)
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Status != "refunded" || e.count("ledger_transactions", "kind = 'refund'") != 2 {
			t.Fatalf("refunded order %+v", got)
		}
		e.verifyLedger(f.auditor)
		if e.count("ledger_accounts", "balance <> 0") != 0 {
			t.Errorf("after a full refund %d accounts are not back to zero", e.count("ledger_accounts", "balance <> 0"))
		}
	}, withStripe(t))
}

// Events out of order and too late: a failure cancels and gives stock back;
// a success after that is refunded at once, never kept; a refund that
// overtakes its payment leaves nothing booked.
func TestCardWebhooksOutOfOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		now := time.Now()
		failed := e.order(f.buyer, "card-f", orderBodyOf("card", item(f.vase.ID, 2)))
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_f1", "payment_intent.payment_failed", failed, failed.Total.Amount),
			webhookSecret, now)); oc != "applied" {
			t.Fatalf("failure: %s", oc)
		}
		if got := e.orderStatus(f.buyer, failed.ID); got.Status != "cancelled" || got.Payment.Status != "failed" || e.stock(f.vase.ID) != 5 {
			t.Fatalf("failed order %+v, stock %d", got, e.stock(f.vase.ID))
		}
		late := webhookEvent(t, "evt_f2", "payment_intent.succeeded", failed, failed.Total.Amount)
		if oc := outcome(t, e.deliverWebhook(late, webhookSecret, now)); oc != "refunded_late_payment" {
			t.Fatalf("late success: %s", oc)
		}
		if got := e.orderStatus(f.buyer, failed.ID); got.Status != "cancelled" || got.Payment.Status != "refunded" ||
			e.count("ledger_transactions", "1 = 1") != 0 {
			t.Fatalf("late payment %+v", got)
		}

		first := e.order(f.buyer, "card-r", orderBodyOf("card", item(f.vase.ID, 1)))
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_r1", "charge.refunded", first, first.Total.Amount), webhookSecret, now)); oc != "applied" {
			t.Fatalf("refund first: %s", oc)
		}
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_r2", "payment_intent.succeeded", first, first.Total.Amount), webhookSecret, now)); oc != "ignored" {
			t.Fatalf("success after its refund: %s", oc)
		}
		if got := e.orderStatus(f.buyer, first.ID); got.Status != "refunded" || e.count("ledger_transactions", "1 = 1") != 0 || e.stock(f.vase.ID) != 5 {
			t.Fatalf("refund before payment %+v", got)
		}

		wrong := e.order(f.buyer, "card-w", orderBodyOf("card", item(f.vase.ID, 1)))
		if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_w", "payment_intent.succeeded", wrong, wrong.Total.Amount-1), webhookSecret, now)); oc != "amount_mismatch" {
			t.Fatalf("short payment: %s", oc)
		}
		if got := e.orderStatus(f.buyer, wrong.ID); got.Status != "pending_payment" {
			t.Fatalf("a short payment paid the order: %+v", got)
		}
		e.verifyLedger(f.auditor)
	}, withStripe(t))
}

// Unpaid card orders expire after their time: stock back; a paid order
// cancelled by its buyer is refunded through Stripe and its sale reversed.
func TestCardOrderExpiryAndCancellation(t *testing.T) {
	clock := time.Now().UTC()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		o := e.order(f.buyer, "card-x", orderBodyOf("card", item(f.vase.ID, 3)))
		o2 := e.order(f.buyer, "card-y", orderBodyOf("card", item(f.basket.ID, 1), item(f.vase.ID, 2)))
		if n, err := e.orders.ExpireDue(context.Background()); err != nil || n != 0 {
			t.Fatalf("expired %d before time: %v", n, err)
		}
		mu.Lock()
		clock = clock.Add(31 * time.Minute)
		mu.Unlock()
		basket := e.stock(f.basket.ID)
		if n, err := e.orders.ExpireDue(context.Background()); err != nil || n != 2 {
			t.Fatalf("expired %d: %v", n, err)
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Status != "expired" || e.stock(f.vase.ID) != 5 {
			t.Fatalf("expired order %+v, stock %d", got, e.stock(f.vase.ID))
		}
		if got := e.orderStatus(f.buyer, o2.ID); got.Status != "expired" || got.Payment.Status != "cancelled" ||
			e.stock(f.basket.ID) != basket+1 || got.Groups[0].Status != "cancelled" {
			t.Fatalf("second expired order %+v, basket stock %d", got, e.stock(f.basket.ID))
		}
		e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil, bearer(f.buyer.AccessToken)).wantError(t, 409, "invalid_state")

		p := e.order(f.buyer, "card-p", orderBodyOf("card", item(f.vase.ID, 2)))
		// Stripe signs with the real time, not the orders service's clock.
		e.deliverWebhook(webhookEvent(t, "evt_p", "payment_intent.succeeded", p, p.Total.Amount), webhookSecret, time.Now()).wantStatus(t, 200)
		var c orderBody
		res := e.do("POST", "/api/v1/orders/"+p.ID+"/cancel", nil, bearer(f.buyer.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &c)
		if c.Status != "refunded" || c.Payment.Status != "refunded" || e.stock(f.vase.ID) != 5 ||
			e.count("ledger_transactions", "kind = 'refund'") != 1 {
			t.Fatalf("cancelled paid order %+v", c)
		}
		// Stripe then reports the refund it made: booked once already.
		e.deliverWebhook(webhookEvent(t, "evt_pr", "charge.refunded", p, p.Total.Amount), webhookSecret, time.Now()).wantStatus(t, 200)
		if e.count("ledger_transactions", "kind = 'refund'") != 1 {
			t.Fatal("the refund was booked twice")
		}
		e.verifyLedger(f.auditor)
	}, withOrderClock(now), withStripe(t))
}

// A paid order of two groups, cancelled after one maker was paid her
// earnings from it: the buyer gets everything back, the platform advances
// what she was paid, nobody's balance goes below zero, her statement shows
// she keeps the money and no longer the minutes, and the books verify.
func TestRefundAfterPayoutIsAdvancedByThePlatform(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		o := e.order(f.buyer, "card-two", orderBodyOf("card", item(f.vase.ID, 1), item(f.basket.ID, 1)))
		e.deliverWebhook(webhookEvent(t, "evt_two", "payment_intent.succeeded", o, o.Total.Amount), webhookSecret, time.Now()).
			wantStatus(t, 200)
		// The vase: 180 of its 240 minutes are hers, at Rs 250 an hour: Rs 750.
		if got := e.accounts(f.group.ID, f.manager)[f.public.ID+":payable"]; got != 75000 {
			t.Fatalf("her payable after the sale: %d", got)
		}
		e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID, "amount": pkr(75000),
			"method": "easypaisa"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "pay-all")).wantStatus(t, 201)

		var c orderBody
		res := e.do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil, bearer(f.buyer.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &c)
		if c.Status != "refunded" || e.count("ledger_transactions", "kind = 'refund'") != 2 {
			t.Fatalf("cancelled order %+v", c)
		}
		for _, g := range []struct {
			id string
			s  session
		}{{f.group.ID, f.manager}, {f.second.ID, f.other}} {
			for k, v := range e.accounts(g.id, g.s) {
				if v != 0 {
					t.Errorf("after the refund %s = %d", k, v)
				}
			}
		}
		var advanced, receipts int64
		e.db.Raw("SELECT balance FROM ledger_accounts WHERE owner_kind = 'platform' AND type = 'refunds_advanced'").Scan(&advanced)
		e.db.Raw("SELECT balance FROM ledger_accounts WHERE owner_kind = 'platform' AND type = 'card_receipts'").Scan(&receipts)
		if advanced != -75000 || receipts != 0 {
			t.Errorf("refunds advanced %d, card receipts %d", advanced, receipts)
		}
		var st struct {
			PaidOut     money `json:"paid_out"`
			Balance     money `json:"balance"`
			MinutesWork int64 `json:"minutes_worked"`
		}
		res = e.do("GET", "/api/v1/artisans/"+f.public.ID+"/statement", nil, bearer(f.manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &st)
		if st.PaidOut.Amount != 75000 || st.Balance.Amount != 0 || st.MinutesWork != 0 {
			t.Errorf("her statement %+v", st)
		}
		e.verifyLedger(f.auditor)
	}, withStripe(t))
}

// A signed event about another PaymentIntent whose metadata names an order
// (someone paid their own intent and edited its metadata) changes nothing:
// not a success, not a failure, not a refund, and no late-payment refund of
// an intent that is not the order's. A signature dated more than five
// minutes ahead is refused like a stale one.
func TestWebhookAppliesOnlyTheOrdersOwnIntent(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		now := time.Now()
		o := e.order(f.buyer, "card-own", orderBodyOf("card", item(f.vase.ID, 1)))
		foreign := o
		foreign.Payment.ProviderRef = "pi_someone_elses"
		for i, typ := range []string{"payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.succeeded"} {
			ev := webhookEvent(t, "evt_foreign_"+strings.Repeat("x", i), typ, foreign, o.Total.Amount)
			if oc := outcome(t, e.deliverWebhook(ev, webhookSecret, now)); oc != "intent_mismatch" {
				t.Errorf("%s of another intent: outcome %q", typ, oc)
			}
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Status != "pending_payment" || got.Payment.Status != "pending" ||
			e.count("ledger_transactions", "1 = 1") != 0 || e.stock(f.vase.ID) != 4 {
			t.Fatalf("another intent's events changed the order: %+v, stock %d", got, e.stock(f.vase.ID))
		}

		paid := webhookEvent(t, "evt_own", "payment_intent.succeeded", o, o.Total.Amount)
		for _, ahead := range []time.Duration{6 * time.Minute, time.Hour} {
			e.deliverWebhook(paid, webhookSecret, now.Add(ahead)).wantError(t, 400, "bad_request")
		}
		if e.orderStatus(f.buyer, o.ID).Status != "pending_payment" || e.count("stripe_events", "id = 'evt_own'") != 0 {
			t.Fatal("an event signed in the future changed something")
		}
		// A little clock skew is not a forgery.
		if oc := outcome(t, e.deliverWebhook(paid, webhookSecret, now.Add(time.Minute))); oc != "applied" {
			t.Fatalf("the order's own intent, signed a minute ahead: %s", oc)
		}
		if got := e.orderStatus(f.buyer, o.ID); got.Status != "paid" {
			t.Fatalf("own intent: %+v", got)
		}
		e.verifyLedger(f.auditor)
	}, withStripe(t))
}
