package api_test

import (
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// karigar_build_info says what the running binary was built from.
func TestMetricsBuildInfo(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		res := e.do("GET", "/metrics", nil)
		res.wantStatus(t, http.StatusOK)
		want := regexp.MustCompile(`(?m)^karigar_build_info\{goversion="` + regexp.QuoteMeta(runtime.Version()) +
			`",revision="[^"]*",version="[^"]+"\} 1$`)
		if !want.Match(res.Body) {
			t.Fatalf("/metrics lacks the build info:\n%s", res.Body)
		}
	})
}

// A checkout, a refused checkout, a cash delivery, a payout and a ledger
// verification each move their business figures on /metrics.
func TestMetricsBusinessFigures(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		o := e.order(f.buyer, "m-1", orderBodyOf("cash_on_delivery", item(f.vase.ID, 1)))
		e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(f.vase.ID, 999)), bearer(f.buyer.AccessToken),
			header("Idempotency-Key", "m-2")).wantError(t, 409, "insufficient_stock")
		path := "/api/v1/orders/" + o.ID
		e.do("POST", path+"/shipments", map[string]any{"group_id": f.group.ID, "carrier": "TCS"}, bearer(f.manager.AccessToken)).
			wantStatus(t, http.StatusOK)
		e.do("POST", path+"/deliver", map[string]any{"group_id": f.group.ID}, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID, "amount": pkr(10000),
			"method": "cash"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "p-1")).wantStatus(t, http.StatusCreated)
		e.verifyLedger(f.auditor)

		res := e.do("GET", "/metrics", nil)
		res.wantStatus(t, http.StatusOK)
		for _, want := range []string{
			`karigar_orders_total{outcome="created"} 1`,
			`karigar_orders_total{outcome="delivered"} 1`,
			`karigar_orders_refused_total{reason="insufficient_stock"} 1`,
			`karigar_ledger_bookings_total{kind="cash_sale"} 1`,
			`karigar_ledger_bookings_total{kind="payout"} 1`,
			`karigar_payouts_total{currency="PKR"} 1`,
			`karigar_payouts_amount_total{currency="PKR"} 10000`,
			`karigar_ledger_verify_duration_seconds_count{result="ok"} 1`,
		} {
			if !strings.Contains(string(res.Body), want+"\n") {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

// A card payment's webhook, delivered twice and once forged, counts each
// outcome, the order paid and its sale booked once.
func TestMetricsWebhookOutcomes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		o := e.order(f.buyer, "card-m", orderBodyOf("card", item(f.vase.ID, 1)))
		paid := webhookEvent(t, "evt_m", "payment_intent.succeeded", o, o.Total.Amount)
		e.deliverWebhook(paid, "whsec_forged", time.Now()).wantError(t, 400, "bad_request")
		if got := outcome(t, e.deliverWebhook(paid, webhookSecret, time.Now())); got != "applied" {
			t.Fatalf("outcome %q", got)
		}
		outcome(t, e.deliverWebhook(paid, webhookSecret, time.Now()))
		body := string(e.do("GET", "/metrics", nil).Body)
		for _, want := range []string{
			`karigar_stripe_webhooks_total{outcome="applied"} 1`,
			`karigar_stripe_webhooks_total{outcome="duplicate"} 1`,
			`karigar_stripe_webhooks_total{outcome="rejected"} 1`,
			`karigar_orders_total{outcome="paid"} 1`,
			`karigar_ledger_bookings_total{kind="sale"} 1`,
		} {
			if !strings.Contains(body, want+"\n") {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	}, withStripe(t))
}
