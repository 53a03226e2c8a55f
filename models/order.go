package models

import (
	"time"

	"github.com/google/uuid"
)

// Order statuses: pending_payment → paid → shipped → delivered (card);
// confirmed → shipped → delivered (cash on delivery); pending_payment →
// cancelled | expired; paid → refunded; confirmed → cancelled.
const (
	OrderPendingPayment = "pending_payment"
	OrderConfirmed      = "confirmed"
	OrderPaid           = "paid"
	OrderShipped        = "shipped"
	OrderDelivered      = "delivered"
	OrderCancelled      = "cancelled"
	OrderExpired        = "expired"
	OrderRefunded       = "refunded"
)

// Payment methods and statuses.
const (
	PayByCard         = "card"
	PayCashOnDelivery = "cash_on_delivery"

	PaymentPending   = "pending"
	PaymentSucceeded = "succeeded"
	PaymentFailed    = "failed"
	PaymentCancelled = "cancelled"
	PaymentDue       = "due"
	PaymentCollected = "collected"
	PaymentRefunded  = "refunded"
)

// Order is a buyer's order. Amounts are minor units of Currency.
type Order struct {
	ID              uuid.UUID `gorm:"primaryKey"`
	BuyerID         uuid.UUID
	Status          string
	PaymentMethod   string
	PaymentStatus   string
	ProviderRef     *string
	Currency        string
	Subtotal        int64
	Shipping        int64
	Total           int64
	ShippingAddress string
	Note            string
	ExpiresAt       *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// An order placed in an order cycle names the cycle and the pickup or
	// delivery slot it is handed over in; both are nil for other orders.
	OrderCycleID *uuid.UUID
	CycleSlotID  *uuid.UUID
}

// OrderLine is one product of an order, with its price and the inputs of
// its fair-trade split frozen.
type OrderLine struct {
	OrderID           uuid.UUID `gorm:"primaryKey"`
	Position          int       `gorm:"primaryKey"`
	ProductID         uuid.UUID
	GroupID           uuid.UUID
	Title             string
	UnitPrice         int64
	Quantity          int
	LineTotal         int64
	UnitMaterials     int64
	UnitPackaging     int64
	HourlyWage        int64
	PlatformFeeBPS    int `gorm:"column:platform_fee_bps"`
	ProcessingBPS     int `gorm:"column:processing_bps"` // the card fee estimate the buyer was shown
	CollectiveFundBPS int `gorm:"column:collective_fund_bps"`
	Makers            string
}

// Group parts of an order.
const (
	PartPending   = "pending"
	PartShipped   = "shipped"
	PartDelivered = "delivered"
	PartCancelled = "cancelled"
)

// OrderGroup is one group's part of an order, which that group ships.
type OrderGroup struct {
	OrderID        uuid.UUID `gorm:"primaryKey"`
	GroupID        uuid.UUID `gorm:"primaryKey"`
	Status         string
	Amount         int64
	ShippingFee    int64
	Carrier        *string
	TrackingNumber *string
	ShippedAt      *time.Time
	DeliveredAt    *time.Time
	CashCollected  *int64
}

// StripeEvent records a Stripe event applied.
type StripeEvent struct {
	ID         string `gorm:"primaryKey"`
	Type       string
	OrderID    *uuid.UUID
	Outcome    string
	ReceivedAt time.Time
}
