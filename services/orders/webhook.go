package orders

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/payments"
)

// Outcomes of a webhook event.
const (
	OutcomeApplied   = "applied"
	OutcomeDuplicate = "duplicate" // the event was applied before
	OutcomeIgnored   = "ignored"   // a type we do not act on, or nothing to change
	OutcomeNoOrder   = "no_order"
	OutcomeRefunded  = "refunded_late_payment"
	OutcomeMismatch  = "amount_mismatch"
	// The event is about a PaymentIntent that is not the order's own, though
	// its metadata names the order: anyone can put an order id into the
	// metadata of an intent they pay themselves.
	OutcomeIntentMismatch = "intent_mismatch"
)

// HandleWebhook verifies a provider's webhook and applies its event at most
// once, whatever the number of deliveries and in any order of arrival: the
// event's id is claimed in the same database transaction that applies it,
// so a duplicate waits for the first and then finds it claimed. An event
// about another PaymentIntent than the order's changes nothing
// (OutcomeIntentMismatch). Errors:
// bad_request (no provider, or a signature that does not verify: nothing
// changes); anything else is transient and the provider retries.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) (string, error) {
	outcome, err := s.handleWebhook(ctx, payload, signature)
	s.opt.Metrics.Webhook(webhookOutcome(outcome, err))
	return outcome, err
}

func (s *Service) handleWebhook(ctx context.Context, payload []byte, signature string) (string, error) {
	if s.opt.Payments == nil {
		return "", services.BadRequest("card payments are not configured here")
	}
	ev, err := s.opt.Payments.ParseWebhook(payload, signature)
	if errors.Is(err, payments.ErrBadSignature) {
		return "", services.BadRequest("the Stripe-Signature header does not verify")
	} else if err != nil {
		return "", services.BadRequest("the event could not be read: %v", err)
	}
	db := s.db.WithContext(ctx)
	var seen int64
	if err := db.Model(&models.StripeEvent{}).Where("id = ?", ev.ID).Count(&seen).Error; err != nil {
		return "", err
	}
	if seen > 0 {
		return OutcomeDuplicate, nil
	}
	switch ev.Type {
	case payments.EventPaymentSucceeded, payments.EventPaymentFailed, payments.EventPaymentCanceled, payments.EventChargeRefunded:
	default:
		return OutcomeIgnored, nil
	}
	o, err := s.orderOf(db, ev)
	if err != nil {
		return "", err
	}
	// Answered 200 like every other event we do not act on: the event is
	// genuinely Stripe's, so a retry would bring the same intent again, and a
	// 4xx would only have Stripe retry it for days and warn the operator.
	foreign := o.ID != uuid.Nil && (o.ProviderRef == nil || *o.ProviderRef != ev.IntentID)
	if foreign {
		s.opt.Logger.Warn("webhook event about another payment intent than the order's", "event_id", ev.ID, "order_id", o.ID)
	}

	// Calls to the provider come before the database transaction, so no lock
	// waits on the network; both are idempotent, so a retried event asks again harmlessly.
	var fee int64
	refundLate := false
	if ev.Type == payments.EventPaymentSucceeded && o.ID != uuid.Nil && !foreign {
		switch o.Status {
		case models.OrderExpired, models.OrderCancelled:
			if o.PaymentStatus != models.PaymentRefunded {
				if _, err := s.opt.Payments.Refund(ctx, o.ID, ev.IntentID); err != nil {
					return "", s.providerDown("refund of a late payment", o.ID, err)
				}
			}
			refundLate = true
		case models.OrderPendingPayment:
			f, ok, err := s.opt.Payments.Fee(ctx, ev.IntentID)
			if err != nil {
				return "", s.providerDown("fee lookup", o.ID, err)
			}
			if ok && f >= 0 && f <= o.Total {
				fee = f
			}
		}
	}

	outcome := OutcomeIgnored
	var eff effects
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		eff = effects{}
		claim := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.StripeEvent{ID: ev.ID, Type: ev.Type,
			OrderID: nilIfZero(o.ID), Outcome: "claimed", ReceivedAt: s.now()})
		if claim.Error != nil {
			return claim.Error
		}
		if claim.RowsAffected == 0 {
			outcome = OutcomeDuplicate
			return nil
		}
		var err error
		if foreign {
			outcome = OutcomeIntentMismatch
		} else if outcome, err = s.apply(tx, ev, o.ID, fee, refundLate, &eff); err != nil {
			return err
		}
		return tx.Model(&models.StripeEvent{}).Where("id = ?", ev.ID).Update("outcome", outcome).Error
	})
	if err == nil {
		s.report(eff)
	}
	return outcome, err
}

// webhookOutcome is what Metrics.Webhook counts: the outcome; "rejected"
// for an event that does not verify; "error" when the event was not
// applied and the provider will send it again.
func webhookOutcome(outcome string, err error) string {
	switch {
	case services.IsCode(err, services.CodeBadRequest):
		return "rejected"
	case err != nil:
		return "error"
	}
	return outcome
}

// orderOf finds the event's order by the id in its metadata, else by the
// payment intent; a zero Order when there is none.
func (s *Service) orderOf(db *gorm.DB, ev payments.Event) (Order, error) {
	var id uuid.UUID
	if ev.OrderID != uuid.Nil {
		id = ev.OrderID
	} else if ev.IntentID != "" {
		var o models.Order
		if err := db.Where("provider_ref = ?", ev.IntentID).Limit(1).Find(&o).Error; err != nil {
			return Order{}, err
		}
		id = o.ID
	}
	if id == uuid.Nil {
		return Order{}, nil
	}
	o, err := s.load(db, id, false)
	if services.IsCode(err, services.CodeNotFound) {
		return Order{}, nil
	}
	return o, err
}

// apply changes the order as the event says, under the order's lock.
func (s *Service) apply(tx *gorm.DB, ev payments.Event, id uuid.UUID, fee int64, refundLate bool, eff *effects) (string, error) {
	if id == uuid.Nil {
		return OutcomeNoOrder, nil
	}
	o, err := s.load(tx, id, true)
	if err != nil {
		return "", err
	}
	now := s.now()
	switch ev.Type {
	case payments.EventPaymentSucceeded:
		switch {
		case refundLate || o.Status == models.OrderExpired || o.Status == models.OrderCancelled:
			// Paid after the order ended: the money went back above; the order says so.
			return OutcomeRefunded, tx.Model(&models.Order{}).Where("id = ?", o.ID).Updates(map[string]any{
				"payment_status": models.PaymentRefunded, "note": "paid after the order had ended: refunded in full",
				"updated_at": now}).Error
		case o.Status != models.OrderPendingPayment:
			return OutcomeIgnored, nil
		case ev.Amount != o.Total || ev.Currency != o.Currency:
			s.opt.Logger.Error("payment amount differs from the order's total", "order_id", o.ID)
			return OutcomeMismatch, nil
		}
		sale := s.sale(o, uuid.Nil)
		sale.ProcessingFee = fee
		if err := eff.book(s.opt.Ledger.BookSale(tx, sale)); err != nil {
			return "", err
		}
		eff.outcomes = append(eff.outcomes, models.OrderPaid)
		return OutcomeApplied, setStatus(tx, &o, models.OrderPaid, models.PaymentSucceeded, now, models.OrderPendingPayment)
	case payments.EventPaymentFailed, payments.EventPaymentCanceled:
		if o.Status != models.OrderPendingPayment {
			return OutcomeIgnored, nil
		}
		payment := models.PaymentFailed
		if ev.Type == payments.EventPaymentCanceled {
			payment = models.PaymentCancelled
		}
		if err := setStatus(tx, &o, models.OrderCancelled, payment, now, models.OrderPendingPayment); err != nil {
			return "", err
		}
		eff.outcomes = append(eff.outcomes, models.OrderCancelled)
		return OutcomeApplied, s.endParts(tx, o)
	case payments.EventChargeRefunded:
		switch o.Status {
		case models.OrderPaid, models.OrderShipped, models.OrderDelivered:
			if err := eff.book(s.opt.Ledger.BookRefund(tx, o.ID)); err != nil {
				return "", err
			}
			eff.outcomes = append(eff.outcomes, models.OrderRefunded)
			wasPaid := o.Status == models.OrderPaid
			if err := setStatus(tx, &o, models.OrderRefunded, models.PaymentRefunded, now, o.Status); err != nil {
				return "", err
			}
			if wasPaid { // nothing has left the groups: the stock is still theirs
				return OutcomeApplied, s.endParts(tx, o)
			}
			return OutcomeApplied, nil
		case models.OrderPendingPayment:
			// The refund overtook the payment's own event: nothing was booked, so nothing to reverse.
			if err := setStatus(tx, &o, models.OrderRefunded, models.PaymentRefunded, now, models.OrderPendingPayment); err != nil {
				return "", err
			}
			eff.outcomes = append(eff.outcomes, models.OrderRefunded)
			return OutcomeApplied, s.endParts(tx, o)
		}
		return OutcomeIgnored, nil
	}
	return OutcomeIgnored, nil
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// providerDown logs a failed call to the payment provider and answers 503,
// which Stripe retries as it does a 500: the failure is theirs or the
// network's, not a bug of ours.
func (s *Service) providerDown(what string, orderID uuid.UUID, err error) error {
	s.opt.Logger.Error("payment provider call failed", "call", what, "order_id", orderID, "error", err.Error())
	return services.Unavailable("the payment provider could not be reached: the event was not applied, send it again")
}
