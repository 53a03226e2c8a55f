package services

import "time"

// Metrics counts business events for the operator. Services report an
// event once its transaction has committed, so a rolled-back or retried
// transaction counts nothing. The api package implements it with Prometheus;
// services never see how the figures are kept.
type Metrics interface {
	// Order counts an order reaching an outcome: created, paid, delivered,
	// cancelled, expired, refunded.
	Order(outcome string)
	// OrderRefused counts a checkout refused for reason (an error code such
	// as insufficient_stock or product_unavailable).
	OrderRefused(reason Code)
	// Payout counts a payout recorded, of amount minor units of currency.
	Payout(amount int64, currency string)
	// Webhook counts a payment provider's event by what became of it.
	Webhook(outcome string)
	// LedgerBooked counts n ledger transactions of kind.
	LedgerBooked(kind string, n int)
	// LedgerVerified records how long a verification of the ledger took.
	LedgerVerified(d time.Duration, ok bool)
	// SMS counts an outbox message or an inbound one by outcome: sent
	// (Kannel took it), retried (Kannel was down or refused it; tried again
	// later), failed (given up after the last attempt), delivered and
	// undelivered (the network's delivery report), received (a new inbound
	// message) and duplicate (one received already).
	SMS(outcome string)
}

// NoMetrics counts nothing: the services' default.
type NoMetrics struct{}

func (NoMetrics) Order(string)                       {}
func (NoMetrics) OrderRefused(Code)                  {}
func (NoMetrics) Payout(int64, string)               {}
func (NoMetrics) Webhook(string)                     {}
func (NoMetrics) LedgerBooked(string, int)           {}
func (NoMetrics) LedgerVerified(time.Duration, bool) {}
func (NoMetrics) SMS(string)                         {}
