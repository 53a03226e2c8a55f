package models

import (
	"time"

	"github.com/google/uuid"
)

// SMS message statuses: queued until Kannel takes it, sent once it has,
// then delivered or failed as the network's delivery report says (or
// failed when Kannel refused it for good).
const (
	SMSQueued    = "queued"
	SMSSent      = "sent"
	SMSDelivered = "delivered"
	SMSFailed    = "failed"
)

// SMSMessage is a message of the outbox. ToSealed is the number sealed by
// services/pii; ToMasked is what lists show of it.
type SMSMessage struct {
	ID            uuid.UUID `gorm:"primaryKey"`
	GroupID       *uuid.UUID
	ArtisanID     *uuid.UUID
	Kind          string
	ToSealed      string
	ToMasked      string
	Body          string
	Unicode       bool
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     *string
	CreatedAt     time.Time
	SentAt        *time.Time
	DeliveredAt   *time.Time
	FailedAt      *time.Time
}

// TableName: the outbox table.
func (SMSMessage) TableName() string { return "sms_messages" }

// SMSInbound records that Kannel handed over the message GatewayID (its
// %I), so that a second delivery of it changes nothing. FromLookup is the
// sender's number as pii.Box.Lookup hashes it; ReplyID the outbox message
// that answered it, if any.
type SMSInbound struct {
	GatewayID  string `gorm:"primaryKey"`
	FromLookup string
	ReceivedAt time.Time
	ReplyID    *uuid.UUID
}

// TableName: the received ids.
func (SMSInbound) TableName() string { return "sms_inbound" }
