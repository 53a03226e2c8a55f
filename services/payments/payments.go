// Package payments is the card payment provider behind one interface, so
// that orders never see Stripe's types. The real implementation is
// stripe-go (stripe.go); tests run it against Stripe's own stripe-mock.
package payments

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// Intent is a provider's payment for one order.
type Intent struct {
	ID           string // the PaymentIntent id (pi_...)
	ClientSecret string // for the buyer's browser to confirm the payment; never stored
	Status       string
}

// Event types the orders service acts on; every other type is ignored.
const (
	EventPaymentSucceeded = "payment_intent.succeeded"
	EventPaymentFailed    = "payment_intent.payment_failed"
	EventPaymentCanceled  = "payment_intent.canceled"
	EventChargeRefunded   = "charge.refunded"
)

// Event is a verified webhook event, reduced to what orders need.
type Event struct {
	ID       string // evt_...: each is applied at most once
	Type     string
	IntentID string    // the PaymentIntent it is about
	OrderID  uuid.UUID // from the intent's metadata; uuid.Nil when absent
	Amount   int64     // the intent's amount, or the amount refunded for charge.refunded
	Currency string    // upper case, e.g. PKR
}

// ErrBadSignature: the webhook's signature is missing, forged, stale or dated in the future.
var ErrBadSignature = errors.New("payments: webhook signature does not verify")

// Provider is a card payment provider.
type Provider interface {
	// CreateIntent creates a payment of amount minor units for an order.
	// Calling it again for the same order returns the same intent (the
	// provider's idempotency key is derived from the order id).
	CreateIntent(ctx context.Context, orderID uuid.UUID, amount int64, currency string) (Intent, error)
	// Cancel cancels an unpaid intent; cancelling one already cancelled is not an error.
	Cancel(ctx context.Context, intentID string) error
	// Refund refunds a paid intent in full, once per order however often it is called.
	Refund(ctx context.Context, orderID uuid.UUID, intentID string) (refundID string, err error)
	// Fee is the processing fee the provider charged for a paid intent, in
	// the intent's currency; ok is false when the provider does not say.
	Fee(ctx context.Context, intentID string) (fee int64, ok bool, err error)
	// ParseWebhook verifies a webhook's raw body against its signature
	// header and returns the event. Errors: ErrBadSignature.
	ParseWebhook(payload []byte, signatureHeader string) (Event, error)
}
