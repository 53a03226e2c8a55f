package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"
)

// DefaultWebhookTolerance is how old a webhook's signature timestamp may be
// when StripeOptions.WebhookTolerance is zero.
const DefaultWebhookTolerance = 300 * time.Second

// metadataOrderID is the PaymentIntent metadata key that carries the order id.
const metadataOrderID = "order_id"

// StripeOptions configure NewStripe.
type StripeOptions struct {
	SecretKey     string // sk_...; required
	WebhookSecret string // whsec_...; required: an empty secret would accept anyone's signature
	// APIBase, when set, sends every API call to that base URL instead of
	// Stripe's (STRIPE_API_BASE; e.g. http://127.0.0.1:12111 for stripe-mock).
	APIBase string
	// HTTPClient is optional; stripe-go's default client (80 s timeout) otherwise.
	HTTPClient *http.Client
	// WebhookTolerance is how old a webhook signature may be, and how far in
	// the future it may be dated; DefaultWebhookTolerance when zero.
	WebhookTolerance time.Duration
}

// Stripe is the Provider backed by stripe-go. Each instance has its own key
// and backends; stripe-go's package-level key and backends are never used,
// so a process may hold several. It logs nothing: errors it returns never
// carry a key or a client secret.
type Stripe struct {
	api           *client.API
	secretKey     string // only to keep it out of error messages
	webhookSecret string
	tolerance     time.Duration
}

var _ Provider = (*Stripe)(nil)

// NewStripe builds a Stripe provider. Errors: a missing secret key or
// webhook secret, an APIBase that is not an absolute http(s) URL, or a
// negative WebhookTolerance.
func NewStripe(opt StripeOptions) (*Stripe, error) {
	if opt.SecretKey == "" {
		return nil, errors.New("payments: stripe secret key is empty")
	}
	if opt.WebhookSecret == "" {
		return nil, errors.New("payments: stripe webhook secret is empty")
	}
	if opt.WebhookTolerance < 0 {
		return nil, fmt.Errorf("payments: negative webhook tolerance %v", opt.WebhookTolerance)
	}
	var base *string
	if opt.APIBase != "" {
		u, err := url.Parse(opt.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("payments: stripe API base %q is not an absolute http(s) URL", opt.APIBase)
		}
		base = stripe.String(strings.TrimRight(opt.APIBase, "/"))
	}

	backend := func(kind stripe.SupportedBackend) stripe.Backend {
		return stripe.GetBackendWithConfig(kind, &stripe.BackendConfig{
			URL:               base, // nil: Stripe's own URL for that kind
			HTTPClient:        opt.HTTPClient,
			LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
			MaxNetworkRetries: stripe.Int64(2),
		})
	}
	tolerance := opt.WebhookTolerance
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	return &Stripe{
		api: client.New(opt.SecretKey, &stripe.Backends{
			API:     backend(stripe.APIBackend),
			Connect: backend(stripe.ConnectBackend),
			Uploads: backend(stripe.UploadsBackend),
		}),
		secretKey:     opt.SecretKey,
		webhookSecret: opt.WebhookSecret,
		tolerance:     tolerance,
	}, nil
}

// CreateIntent creates a PaymentIntent for the order with automatic payment
// methods and metadata order_id. Its idempotency key is
// "karigar-order-<orderID>", so a repeat within Stripe's 24 hours returns the
// same intent; a repeat with another amount or currency is an error from
// Stripe. Errors: Stripe's or the network's, without secrets.
func (s *Stripe) CreateIntent(ctx context.Context, orderID uuid.UUID, amount int64, currency string) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:   stripe.Int64(amount),
		Currency: stripe.String(strings.ToLower(currency)),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{
			Enabled: stripe.Bool(true),
		},
	}
	params.Context = ctx
	params.AddMetadata(metadataOrderID, orderID.String())
	params.SetIdempotencyKey("karigar-order-" + orderID.String())
	pi, err := s.api.PaymentIntents.New(params)
	if err != nil {
		return Intent{}, s.providerError("create payment intent", err)
	}
	return Intent{ID: pi.ID, ClientSecret: pi.ClientSecret, Status: string(pi.Status)}, nil
}

// Cancel cancels the PaymentIntent. An intent that is already canceled is
// not an error. Errors: Stripe's (e.g. the intent has succeeded) or the
// network's, without secrets.
func (s *Stripe) Cancel(ctx context.Context, intentID string) error {
	params := &stripe.PaymentIntentCancelParams{}
	params.Context = ctx
	_, err := s.api.PaymentIntents.Cancel(intentID, params)
	if err == nil {
		return nil
	}
	var serr *stripe.Error
	if !errors.As(err, &serr) || serr.Code != stripe.ErrorCodePaymentIntentUnexpectedState {
		return s.providerError("cancel payment intent", err)
	}
	// Stripe says the intent cannot be canceled in its state: fine when that
	// state is canceled. The error usually carries the intent; ask otherwise.
	pi := serr.PaymentIntent
	if pi == nil || pi.Status == "" {
		getParams := &stripe.PaymentIntentParams{}
		getParams.Context = ctx
		var gerr error
		if pi, gerr = s.api.PaymentIntents.Get(intentID, getParams); gerr != nil {
			return s.providerError("cancel payment intent", err)
		}
	}
	if pi.Status == stripe.PaymentIntentStatusCanceled {
		return nil
	}
	return s.providerError("cancel payment intent", err)
}

// Refund refunds the PaymentIntent in full. The refund names the intent,
// never a charge, and its idempotency key is "karigar-refund-<orderID>", so
// repeats return the same refund. Errors: Stripe's (e.g. not paid, already
// refunded by other means) or the network's, without secrets.
func (s *Stripe) Refund(ctx context.Context, orderID uuid.UUID, intentID string) (string, error) {
	params := &stripe.RefundParams{PaymentIntent: stripe.String(intentID)}
	params.Context = ctx
	params.AddMetadata(metadataOrderID, orderID.String())
	params.SetIdempotencyKey("karigar-refund-" + orderID.String())
	r, err := s.api.Refunds.New(params)
	if err != nil {
		return "", s.providerError("refund payment intent", err)
	}
	return r.ID, nil
}

// Fee returns the fee of the intent's latest charge, read from its balance
// transaction. ok is false when the intent has no charge or balance
// transaction yet, or when the fee is settled in a currency other than the
// intent's (it is not converted). Errors: Stripe's or the network's, without
// secrets.
func (s *Stripe) Fee(ctx context.Context, intentID string) (int64, bool, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	params.AddExpand("latest_charge.balance_transaction")
	pi, err := s.api.PaymentIntents.Get(intentID, params)
	if err != nil {
		return 0, false, s.providerError("retrieve payment intent", err)
	}
	fee, ok := feeOf(pi)
	return fee, ok, nil
}

// feeOf reads the fee from an intent retrieved with
// latest_charge.balance_transaction expanded.
func feeOf(pi *stripe.PaymentIntent) (int64, bool) {
	if pi.LatestCharge == nil || pi.LatestCharge.BalanceTransaction == nil {
		return 0, false
	}
	bt := pi.LatestCharge.BalanceTransaction
	// An unexpanded balance transaction has only an id, and no currency.
	if bt.Currency == "" || !strings.EqualFold(string(bt.Currency), string(pi.Currency)) {
		return 0, false
	}
	return bt.Fee, true
}

// ParseWebhook verifies the Stripe-Signature header against the raw body
// and the webhook secret, then reduces the event: payment_intent.* events
// carry the intent's id, metadata order_id, amount and currency;
// charge.refunded carries the charge's intent, its order_id metadata if any
// (uuid.Nil otherwise) and the amount refunded; any other type only its id
// and type. Errors: ErrBadSignature when the header is missing, malformed,
// forged, older than the tolerance or dated more than it ahead; another
// error when a correctly signed body is not a well-formed event.
func (s *Stripe) ParseWebhook(payload []byte, signatureHeader string) (Event, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, signatureHeader, s.webhookSecret,
		webhook.ConstructEventOptions{Tolerance: s.tolerance, IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return Event{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	case err != nil:
		return Event{}, fmt.Errorf("payments: webhook body: %w", err)
	}
	// stripe-go refuses old signatures only. One dated far ahead would stay
	// replayable for as long as it is ahead plus the tolerance, so the same
	// window applies on both sides of now (of time.Now, as stripe-go's check).
	if at, ok := signedAt(signatureHeader); !ok || time.Until(at) > s.tolerance {
		return Event{}, fmt.Errorf("%w: signature timestamp is in the future", ErrBadSignature)
	}
	if ev.ID == "" || ev.Type == "" {
		return Event{}, errors.New("payments: webhook event has no id or type")
	}
	out := Event{ID: ev.ID, Type: string(ev.Type)}
	switch {
	case strings.HasPrefix(out.Type, "payment_intent."):
		var pi stripe.PaymentIntent
		if err := unmarshalObject(ev, &pi); err != nil {
			return Event{}, err
		}
		if pi.ID == "" {
			return Event{}, fmt.Errorf("payments: webhook %s %s has no payment intent id", out.Type, out.ID)
		}
		out.IntentID = pi.ID
		out.OrderID = orderIDOf(pi.Metadata)
		out.Amount = pi.Amount
		out.Currency = strings.ToUpper(string(pi.Currency))
	case out.Type == EventChargeRefunded:
		var ch stripe.Charge
		if err := unmarshalObject(ev, &ch); err != nil {
			return Event{}, err
		}
		if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
			return Event{}, fmt.Errorf("payments: webhook %s %s: charge has no payment intent", out.Type, out.ID)
		}
		out.IntentID = ch.PaymentIntent.ID
		out.OrderID = orderIDOf(ch.Metadata)
		out.Amount = ch.AmountRefunded
		out.Currency = strings.ToUpper(string(ch.Currency))
	}
	return out, nil
}

// signedAt is the t= timestamp of a Stripe-Signature header (which stripe-go
// has verified by then); false when there is none.
func signedAt(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found || k != "t" {
			continue
		}
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(sec, 0), true
	}
	return time.Time{}, false
}

// unmarshalObject decodes the event's data.object into v.
func unmarshalObject(ev stripe.Event, v any) error {
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return fmt.Errorf("payments: webhook %s %s has no data.object", ev.Type, ev.ID)
	}
	if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
		return fmt.Errorf("payments: webhook %s %s data.object: %w", ev.Type, ev.ID, err)
	}
	return nil
}

// orderIDOf is the order id in Stripe metadata, or uuid.Nil when absent or
// not a uuid.
func orderIDOf(metadata map[string]string) uuid.UUID {
	id, err := uuid.Parse(metadata[metadataOrderID])
	if err != nil {
		return uuid.Nil
	}
	return id
}

// clientSecretPattern matches a PaymentIntent's client secret, pi_..._secret_...
var clientSecretPattern = regexp.MustCompile(`[A-Za-z0-9]+_secret_[A-Za-z0-9]+`)

// providerError describes a failed Stripe call without the secrets a
// *stripe.Error can hold: its Error() is the whole error as JSON, which may
// include the PaymentIntent with its client secret, and a message may quote
// the API key (Stripe masks it; stripe-mock does not).
func (s *Stripe) providerError(op string, err error) error {
	var serr *stripe.Error
	if !errors.As(err, &serr) {
		return fmt.Errorf("payments: %s: %w", op, err)
	}
	msg := fmt.Sprintf("payments: %s: stripe %s", op, serr.Type)
	if serr.Code != "" {
		msg += " " + string(serr.Code)
	}
	if serr.DeclineCode != "" {
		msg += " (" + string(serr.DeclineCode) + ")"
	}
	msg += fmt.Sprintf(", status %d", serr.HTTPStatusCode)
	if serr.RequestID != "" {
		msg += ", request " + serr.RequestID
	}
	msg += ": " + strings.ReplaceAll(serr.Msg, s.secretKey, "[api key]")
	return errors.New(clientSecretPattern.ReplaceAllString(msg, "[client secret]"))
}
