// Package sms is Karigar's side of the SMS gateway (Kannel, contract
// section 12): the outbox that messages are written to in the transaction
// that causes them, the sender loop that hands them to Kannel's sendsms
// interface, delivery reports, and inbound messages handed to a Handler.
package sms

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// Outgoing is a message to put in the outbox.
type Outgoing struct {
	GroupID   *uuid.UUID // whose message list shows it (GET /groups/{id}/messages)
	ArtisanID *uuid.UUID
	Kind      string // what caused it: "receipt", "reply", "help", ...
	ToSealed  string // the number, sealed by services/pii (pii.Box.Seal)
	ToMasked  string // pii.Mask of the number, for lists
	Text      string
	Unicode   bool // sent as UCS-2 (Kannel coding=2): needed for Urdu script
}

// Enqueue writes m to the outbox as queued, due at once, inside tx: the
// caller's transaction, so that the message exists exactly when what caused
// it does. It returns the message's id.
func Enqueue(tx *gorm.DB, m Outgoing, now time.Time) (uuid.UUID, error) {
	if m.ToSealed == "" || m.Text == "" || m.Kind == "" {
		return uuid.Nil, errors.New("sms: a message needs a sealed number, a text and a kind")
	}
	now = now.UTC()
	row := models.SMSMessage{ID: models.NewID(), GroupID: m.GroupID, ArtisanID: m.ArtisanID, Kind: m.Kind,
		ToSealed: m.ToSealed, ToMasked: m.ToMasked, Body: m.Text, Unicode: m.Unicode,
		Status: models.SMSQueued, NextAttemptAt: now, CreatedAt: now}
	return row.ID, tx.Create(&row).Error
}

// Inbound is a message from a phone, as Kannel's sms-service passes it on.
type Inbound struct {
	GatewayID  string // Kannel's id of the message (%I): the same id twice is one message
	From       string // the sender's number as the network gave it (%p)
	Text       string // the text, UTF-8 (%a, with mo-recode)
	ReceivedAt time.Time
}

// Handler answers an inbound message inside the transaction that records
// it (so that a message delivered twice is handled once). A nil reply sends
// nothing.
type Handler func(ctx context.Context, tx *gorm.DB, in Inbound) (*Outgoing, error)
