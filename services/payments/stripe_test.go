package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/karigar/karigar/services/payments/stripemock"
)

func TestMain(m *testing.M) { os.Exit(stripemock.Main(m)) }

const testWebhookSecret = "whsec_karigar_test"

// recordedRequest is what one API call sent to stripe-mock.
type recordedRequest struct {
	Method         string
	Path           string
	Query          url.Values
	Form           url.Values
	IdempotencyKey string
}

// recorder is an http.RoundTripper that records each request and passes it
// on unchanged to the real transport: stripe-mock still answers every call.
type recorder struct {
	mu   sync.Mutex
	reqs []recordedRequest
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recordedRequest{
		Method:         req.Method,
		Path:           req.URL.Path,
		Query:          req.URL.Query(),
		IdempotencyKey: req.Header.Get("Idempotency-Key"),
	}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if rec.Form, err = url.ParseQuery(string(body)); err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) requests() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.reqs...)
}

// newMockedStripe is a Stripe talking to the test binary's stripe-mock
// through a recorder.
func newMockedStripe(t *testing.T) (*Stripe, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, err := NewStripe(StripeOptions{
		SecretKey:     stripemock.Key,
		WebhookSecret: testWebhookSecret,
		APIBase:       stripemock.Start(t),
		HTTPClient:    &http.Client{Transport: rec, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func onlyRequest(t *testing.T, rec *recorder) recordedRequest {
	t.Helper()
	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests sent, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func TestNewStripeRejectsBadOptions(t *testing.T) {
	valid := StripeOptions{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret}
	tests := map[string]func(*StripeOptions){
		"no secret key":      func(o *StripeOptions) { o.SecretKey = "" },
		"no webhook secret":  func(o *StripeOptions) { o.WebhookSecret = "" },
		"relative API base":  func(o *StripeOptions) { o.APIBase = "127.0.0.1:12111" },
		"ftp API base":       func(o *StripeOptions) { o.APIBase = "ftp://127.0.0.1" },
		"negative tolerance": func(o *StripeOptions) { o.WebhookTolerance = -time.Second },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			opt := valid
			change(&opt)
			if _, err := NewStripe(opt); err == nil {
				t.Fatal("NewStripe accepted the options")
			}
		})
	}
}

func TestCreateIntentSendsOrderAndReturnsClientSecret(t *testing.T) {
	t.Parallel()
	s, rec := newMockedStripe(t)
	orderID := uuid.New()

	intent, err := s.CreateIntent(context.Background(), orderID, 125_000, "PKR")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(intent.ID, "pi_") {
		t.Errorf("ID = %q, want pi_...", intent.ID)
	}
	if !strings.Contains(intent.ClientSecret, "_secret_") {
		t.Errorf("ClientSecret = %q, want pi_..._secret_...", intent.ClientSecret)
	}
	if intent.Status != string(stripe.PaymentIntentStatusRequiresPaymentMethod) {
		t.Errorf("Status = %q, want requires_payment_method", intent.Status)
	}

	req := onlyRequest(t, rec)
	if req.Method != http.MethodPost || req.Path != "/v1/payment_intents" {
		t.Errorf("sent %s %s, want POST /v1/payment_intents", req.Method, req.Path)
	}
	want := map[string]string{
		"amount":                             "125000",
		"currency":                           "pkr",
		"metadata[order_id]":                 orderID.String(),
		"automatic_payment_methods[enabled]": "true",
	}
	for k, v := range want {
		if got := req.Form.Get(k); got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
	if want := "karigar-order-" + orderID.String(); req.IdempotencyKey != want {
		t.Errorf("Idempotency-Key = %q, want %q", req.IdempotencyKey, want)
	}
}

// stripe-mock keeps no state and ignores idempotency keys (each create gets
// a fresh id), so what can be checked here is that both calls for one order
// send Stripe the same key, and another order a different one.
func TestCreateIntentTwiceForOneOrderSendsOneIdempotencyKey(t *testing.T) {
	t.Parallel()
	s, rec := newMockedStripe(t)
	order, other := uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{order, order, other} {
		if _, err := s.CreateIntent(context.Background(), id, 5_000, "pkr"); err != nil {
			t.Fatal(err)
		}
	}
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	if reqs[0].IdempotencyKey == "" || reqs[0].IdempotencyKey != reqs[1].IdempotencyKey {
		t.Errorf("same order sent keys %q and %q, want one key", reqs[0].IdempotencyKey, reqs[1].IdempotencyKey)
	}
	if reqs[2].IdempotencyKey == reqs[0].IdempotencyKey {
		t.Errorf("another order reused key %q", reqs[2].IdempotencyKey)
	}
}

func TestStripeErrorKeepsTheKeyOutOfItsMessage(t *testing.T) {
	t.Parallel()
	// stripe-mock refuses a key with a second underscore and, unlike
	// Stripe, quotes the whole Authorization header in its message.
	const badKey = "sk_test_not_valid"
	s, err := NewStripe(StripeOptions{
		SecretKey: badKey, WebhookSecret: testWebhookSecret, APIBase: stripemock.Start(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateIntent(context.Background(), uuid.New(), 5_000, "pkr")
	if err == nil {
		t.Fatal("CreateIntent with a refused key succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "status 401") {
		t.Errorf("error %q does not say status 401", msg)
	}
	if strings.Contains(msg, badKey) {
		t.Errorf("error carries the API key: %s", msg)
	}
}

func TestCancelSendsCancelForTheIntent(t *testing.T) {
	t.Parallel()
	s, rec := newMockedStripe(t)
	if err := s.Cancel(context.Background(), "pi_karigar1"); err != nil {
		t.Fatal(err)
	}
	req := onlyRequest(t, rec)
	if req.Method != http.MethodPost || req.Path != "/v1/payment_intents/pi_karigar1/cancel" {
		t.Errorf("sent %s %s, want POST /v1/payment_intents/pi_karigar1/cancel", req.Method, req.Path)
	}
}

func TestRefundNamesThePaymentIntent(t *testing.T) {
	t.Parallel()
	s, rec := newMockedStripe(t)
	orderID := uuid.New()

	refundID, err := s.Refund(context.Background(), orderID, "pi_karigar2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(refundID, "re_") {
		t.Errorf("refund id = %q, want re_...", refundID)
	}
	req := onlyRequest(t, rec)
	if req.Method != http.MethodPost || req.Path != "/v1/refunds" {
		t.Errorf("sent %s %s, want POST /v1/refunds", req.Method, req.Path)
	}
	if got := req.Form.Get("payment_intent"); got != "pi_karigar2" {
		t.Errorf("payment_intent = %q, want pi_karigar2", got)
	}
	if req.Form.Has("charge") {
		t.Errorf("refund also names charge %q", req.Form.Get("charge"))
	}
	if want := "karigar-refund-" + orderID.String(); req.IdempotencyKey != want {
		t.Errorf("Idempotency-Key = %q, want %q", req.IdempotencyKey, want)
	}
}

// stripe-mock's fixture intent (amount 1099 usd) has a latest charge whose
// balance transaction is in usd with fee 0.
func TestFeeReadsTheExpandedBalanceTransaction(t *testing.T) {
	t.Parallel()
	s, rec := newMockedStripe(t)
	fee, ok, err := s.Fee(context.Background(), "pi_karigar3")
	if err != nil {
		t.Fatal(err)
	}
	if !ok || fee != 0 {
		t.Errorf("Fee = %d, %v; want stripe-mock's fixture 0, true", fee, ok)
	}
	req := onlyRequest(t, rec)
	if req.Method != http.MethodGet || req.Path != "/v1/payment_intents/pi_karigar3" {
		t.Errorf("sent %s %s, want GET /v1/payment_intents/pi_karigar3", req.Method, req.Path)
	}
	if got := req.Query["expand[0]"]; len(got) != 1 || got[0] != "latest_charge.balance_transaction" {
		t.Errorf("expand = %v, want latest_charge.balance_transaction (query %v)", got, req.Query)
	}
}

func TestFeeOf(t *testing.T) {
	expanded := func(intentCurrency, feeCurrency stripe.Currency, fee int64) *stripe.PaymentIntent {
		return &stripe.PaymentIntent{Currency: intentCurrency, LatestCharge: &stripe.Charge{
			BalanceTransaction: &stripe.BalanceTransaction{ID: "txn_1", Currency: feeCurrency, Fee: fee},
		}}
	}
	tests := []struct {
		name   string
		intent *stripe.PaymentIntent
		fee    int64
		ok     bool
	}{
		{"fee in the intent's currency", expanded("pkr", "pkr", 3_120), 3_120, true},
		{"zero fee is a fee", expanded("pkr", "pkr", 0), 0, true},
		{"no charge yet: unknown", &stripe.PaymentIntent{Currency: "pkr"}, 0, false},
		{"charge without balance transaction: unknown",
			&stripe.PaymentIntent{Currency: "pkr", LatestCharge: &stripe.Charge{ID: "ch_1"}}, 0, false},
		{"balance transaction not expanded: unknown", &stripe.PaymentIntent{Currency: "pkr", LatestCharge: &stripe.Charge{
			BalanceTransaction: &stripe.BalanceTransaction{ID: "txn_1"},
		}}, 0, false},
		{"fee settled in another currency: unknown", expanded("pkr", "usd", 90), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fee, ok := feeOf(tt.intent)
			if fee != tt.fee || ok != tt.ok {
				t.Errorf("feeOf = %d, %v; want %d, %v", fee, ok, tt.fee, tt.ok)
			}
		})
	}
}

// eventJSON is a webhook body as Stripe sends it.
func eventJSON(t *testing.T, id, typ string, object any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2019-02-19", "created": 1700000000,
		"livemode": false, "type": typ, "data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func paymentIntentJSON(metadata map[string]string) map[string]any {
	return map[string]any{
		"id": "pi_karigar4", "object": "payment_intent", "amount": 125000, "currency": "pkr",
		"status": "succeeded", "metadata": metadata, "client_secret": "pi_karigar4_secret_x",
	}
}

func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: at,
	}).Header
}

func TestParseWebhookMapsSignedEvents(t *testing.T) {
	s, err := NewStripe(StripeOptions{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	orderID := uuid.New()
	withOrder := map[string]string{"order_id": orderID.String()}
	charge := func(metadata map[string]string) map[string]any {
		return map[string]any{
			"id": "ch_karigar", "object": "charge", "amount": 125000, "amount_refunded": 125000,
			"currency": "pkr", "refunded": true, "payment_intent": "pi_karigar4", "metadata": metadata,
		}
	}
	tests := []struct {
		name    string
		payload []byte
		want    Event
	}{
		{"succeeded carries intent, order, amount, upper-case currency",
			eventJSON(t, "evt_1", EventPaymentSucceeded, paymentIntentJSON(withOrder)),
			Event{ID: "evt_1", Type: EventPaymentSucceeded, IntentID: "pi_karigar4", OrderID: orderID, Amount: 125000, Currency: "PKR"}},
		{"failed carries the intent",
			eventJSON(t, "evt_2", EventPaymentFailed, paymentIntentJSON(withOrder)),
			Event{ID: "evt_2", Type: EventPaymentFailed, IntentID: "pi_karigar4", OrderID: orderID, Amount: 125000, Currency: "PKR"}},
		{"canceled carries the intent",
			eventJSON(t, "evt_3", EventPaymentCanceled, paymentIntentJSON(withOrder)),
			Event{ID: "evt_3", Type: EventPaymentCanceled, IntentID: "pi_karigar4", OrderID: orderID, Amount: 125000, Currency: "PKR"}},
		{"intent without order metadata has nil order",
			eventJSON(t, "evt_4", EventPaymentSucceeded, paymentIntentJSON(nil)),
			Event{ID: "evt_4", Type: EventPaymentSucceeded, IntentID: "pi_karigar4", Amount: 125000, Currency: "PKR"}},
		{"intent with a malformed order id has nil order",
			eventJSON(t, "evt_5", EventPaymentSucceeded, paymentIntentJSON(map[string]string{"order_id": "42"})),
			Event{ID: "evt_5", Type: EventPaymentSucceeded, IntentID: "pi_karigar4", Amount: 125000, Currency: "PKR"}},
		{"charge.refunded carries the charge's intent and amount refunded",
			eventJSON(t, "evt_6", EventChargeRefunded, charge(withOrder)),
			Event{ID: "evt_6", Type: EventChargeRefunded, IntentID: "pi_karigar4", OrderID: orderID, Amount: 125000, Currency: "PKR"}},
		{"charge.refunded without metadata has nil order",
			eventJSON(t, "evt_7", EventChargeRefunded, charge(nil)),
			Event{ID: "evt_7", Type: EventChargeRefunded, IntentID: "pi_karigar4", Amount: 125000, Currency: "PKR"}},
		{"unknown type carries only id and type",
			eventJSON(t, "evt_8", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}),
			Event{ID: "evt_8", Type: "customer.created"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ParseWebhook(tt.payload, sign(tt.payload, testWebhookSecret, time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("event =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseWebhookRejectsBadSignatures(t *testing.T) {
	s, err := NewStripe(StripeOptions{
		SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret, WebhookTolerance: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	payload := eventJSON(t, "evt_1", EventPaymentSucceeded, paymentIntentJSON(nil))
	tampered := bytes.Replace(payload, []byte("125000"), []byte("1"), 1)
	tests := []struct {
		name    string
		payload []byte
		header  string
	}{
		{"forged body", tampered, sign(payload, testWebhookSecret, time.Now())},
		{"wrong secret", payload, sign(payload, "whsec_attacker", time.Now())},
		{"stale timestamp", payload, sign(payload, testWebhookSecret, time.Now().Add(-2*time.Minute))},
		{"no header", payload, ""},
		{"garbage header", payload, "t=yesterday,v1=zz"},
		{"header without v1 signature", payload, "t=1700000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.ParseWebhook(tt.payload, tt.header)
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestParseWebhookRejectsMalformedSignedBodies(t *testing.T) {
	s, err := NewStripe(StripeOptions{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"not json":                     []byte("not json"),
		"no id or type":                []byte(`{"object":"event","data":{"object":{}}}`),
		"intent event without data":    []byte(`{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}`),
		"intent event with string":     eventJSON(t, "evt_2", EventPaymentSucceeded, "pi_1"),
		"intent event without id":      eventJSON(t, "evt_3", EventPaymentSucceeded, map[string]any{"amount": 1}),
		"refund event without intent":  eventJSON(t, "evt_4", EventChargeRefunded, map[string]any{"id": "ch_1", "amount_refunded": 1}),
		"intent event with bad amount": eventJSON(t, "evt_5", EventPaymentSucceeded, map[string]any{"id": "pi_1", "amount": "lots"}),
	}
	for name, payload := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := s.ParseWebhook(payload, sign(payload, testWebhookSecret, time.Now()))
			if err == nil {
				t.Fatal("ParseWebhook accepted the body")
			}
			if errors.Is(err, ErrBadSignature) {
				t.Fatalf("err = %v, want an error other than ErrBadSignature", err)
			}
		})
	}
}
