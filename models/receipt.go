package models

import (
	"time"

	"github.com/google/uuid"
)

// Receipt is a payout's receipt: the code its artisan answers by SMS and
// her answer. MessageID is the receipt's SMS in the outbox, whose status the
// receipt shows until she confirms or disputes it.
type Receipt struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	PayoutID    uuid.UUID
	GroupID     uuid.UUID
	ArtisanID   uuid.UUID
	Code        string
	Language    string
	MessageID   *uuid.UUID
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	DisputedAt  *time.Time
	SettledBy   *string // the gateway id of the inbound message that confirmed or disputed it
}

// Receipt statuses: the outbox message's (SMSQueued, SMSSent, SMSDelivered,
// SMSFailed) until the artisan answers.
const (
	ReceiptConfirmed = "confirmed"
	ReceiptDisputed  = "disputed"
)
