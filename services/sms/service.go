package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/pii"
)

// Options configure the Service. DLRKey is required; the rest may be zero.
type Options struct {
	// Box hashes an inbound sender's number for sms_inbound and seals the
	// number of a reply that names none. nil: senders are recorded without
	// a hash, and a reply must carry its sealed number.
	Box *pii.Box
	// Handler answers inbound messages; nil replies nothing.
	Handler Handler
	// InboundToken is the shared secret Kannel's sms-service sends with
	// every call (KARIGAR_SMS_INBOUND_TOKEN). Empty: every call is refused.
	InboundToken string
	// DLRKey signs the delivery-report URLs the sender gives Kannel, one
	// token per message, and checks them when Kannel calls back.
	DLRKey    []byte
	CursorKey []byte
	Logger    *slog.Logger
	Metrics   services.Metrics
	Now       func() time.Time
}

// Service is the API's side of the SMS gateway: inbound messages, delivery
// reports and a group's message list. The Sender hands the outbox to Kannel.
type Service struct {
	db     *gorm.DB
	opt    Options
	cursor page.Codec
}

// New returns the service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if len(opt.DLRKey) < 32 {
		return nil, errors.New("sms: a delivery-report key of at least 32 bytes is required")
	}
	if opt.Handler == nil {
		opt.Handler = NoReply
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = services.NoMetrics{}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey)}, nil
}

// NoReply is the Handler that answers nothing: the default until one is
// wired.
func NoReply(context.Context, *gorm.DB, Inbound) (*Outgoing, error) { return nil, nil }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Outcome is what became of an inbound message or a delivery report.
type Outcome string

const (
	Accepted    Outcome = "accepted"    // a new inbound message, handled
	Duplicate   Outcome = "duplicate"   // its gateway id was handled before: nothing changed
	Ignored     Outcome = "ignored"     // nothing to do (unusable, refused by the handler, an intermediate report)
	Delivered   Outcome = "delivered"   // a delivery report: the phone has it
	Undelivered Outcome = "undelivered" // a delivery report: the network gave up
)

// InboundTokenValid reports, in constant time, whether token is the
// configured inbound token. With none configured, no token is.
func (s *Service) InboundTokenValid(token string) bool {
	if s.opt.InboundToken == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.opt.InboundToken))
	return hmac.Equal(a[:], b[:])
}

// Limits of what an inbound message may hold: Kannel's %I is a UUID, a
// number is at most 15 digits with some punctuation, and a text of 255
// concatenated parts is under 40,000 characters.
const (
	maxGatewayID = 64
	maxFrom      = 32
	maxText      = 40000
)

// Receive records and handles a message Kannel's sms-service handed over.
// In one transaction: its gateway id is recorded (a second delivery of the
// same id finds it and changes nothing: Duplicate), the Handler answers it,
// and the answer, if any, is put in the outbox. A reply that names no
// number goes back to the sender. A message without a sender or an id is
// Ignored; so is one the Handler refuses with a services.Error (its id is
// recorded, so that Kannel's retries of it change nothing either). Other
// errors (the database, a bug) are returned: the caller answers so that
// Kannel tries again later.
func (s *Service) Receive(ctx context.Context, in Inbound) (Outcome, error) {
	in.GatewayID, in.From = strings.TrimSpace(in.GatewayID), strings.TrimSpace(in.From)
	in.Text = strings.ToValidUTF8(in.Text, "\uFFFD")
	if in.GatewayID == "" || in.From == "" || len(in.GatewayID) > maxGatewayID || len(in.From) > maxFrom ||
		utf8.RuneCountInString(in.Text) > maxText || !utf8.ValidString(in.GatewayID+in.From) {
		s.opt.Logger.Warn("sms: inbound message ignored: no sender or gateway id, or too long",
			"gateway_id_length", len(in.GatewayID), "from_length", len(in.From))
		return Ignored, nil
	}
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = s.now()
	}
	in.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	lookup := ""
	if s.opt.Box != nil {
		lookup = s.opt.Box.Lookup(in.From)
	}
	row := models.SMSInbound{GatewayID: in.GatewayID, FromLookup: lookup, ReceivedAt: in.ReceivedAt}
	var outcome Outcome
	var refusal *services.Error
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		outcome = Accepted
		if fresh, err := record(tx, row); err != nil || !fresh {
			outcome = Duplicate
			return err
		}
		reply, err := s.opt.Handler(ctx, tx, in)
		if err != nil {
			return err
		}
		if reply == nil {
			return nil
		}
		if reply.ToSealed == "" {
			if err := s.sealSender(reply, in.From); err != nil {
				return err
			}
		}
		id, err := Enqueue(tx, *reply, s.now())
		if err != nil {
			return err
		}
		return tx.Model(&models.SMSInbound{}).Where("gateway_id = ?", row.GatewayID).Update("reply_id", id).Error
	})
	if e, ok := services.AsError(err); ok && e.Code != services.CodeUnavailable && e.Code != services.CodeInternal {
		refusal, err = e, nil
	}
	if refusal != nil {
		// A refusal is the same however often Kannel asks: record the id
		// alone, so that its retries are duplicates.
		s.opt.Logger.Warn("sms: the inbound handler refused a message; it is recorded and not handled",
			"gateway_id", in.GatewayID, "code", string(refusal.Code))
		err = models.Transact(ctx, s.db, func(tx *gorm.DB) error {
			fresh, err := record(tx, row)
			outcome = Ignored
			if !fresh {
				outcome = Duplicate
			}
			return err
		})
	}
	if err != nil {
		return "", err
	}
	switch outcome {
	case Accepted:
		s.opt.Metrics.SMS("received")
	case Duplicate:
		s.opt.Metrics.SMS("duplicate")
	}
	return outcome, nil
}

// record inserts the gateway id unless it is there already; fresh is false
// when it was. On PostgreSQL a concurrent insert of the same id waits for
// the first transaction and then finds its row.
func record(tx *gorm.DB, row models.SMSInbound) (fresh bool, err error) {
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "gateway_id"}}, DoNothing: true}).Create(&row)
	return res.RowsAffected == 1, res.Error
}

// sealSender addresses reply to the number the message came from.
func (s *Service) sealSender(reply *Outgoing, from string) error {
	if s.opt.Box == nil {
		return errors.New("sms: a reply names no number and no PII key is configured to seal the sender's")
	}
	n, ok := pii.NormalisePhone(from)
	if !ok {
		n = from
	}
	sealed, err := s.opt.Box.Seal(n)
	if err != nil {
		return err
	}
	reply.ToSealed, reply.ToMasked = sealed, pii.Mask(n)
	return nil
}

// DLRToken is the token of message id's delivery-report URL: an HMAC of
// the id, so that a report names one message and cannot be made for another.
func DLRToken(key []byte, id uuid.UUID) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("karigar/sms-dlr\x00"))
	m.Write(id[:])
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// DLRTokenValid reports whether token is message id's delivery-report token.
func (s *Service) DLRTokenValid(id uuid.UUID, token string) bool {
	return hmac.Equal([]byte(token), []byte(DLRToken(s.opt.DLRKey, id)))
}

// Kannel's delivery report types (%d) that end a message's story; 4
// (queued at the SMSC) and 8 (delivered to the SMSC) are intermediate and
// are not asked for (dlr-mask=3).
const (
	dlrDelivered        = 1
	dlrUndelivered      = 2
	dlrSMSCUndelivered  = 16
	reportErrorTemplate = "the network reported it undelivered (delivery report %d)"
)

// Report applies Kannel's delivery report of type typ (its %d) to message
// id: 1 makes it delivered, 2 and 16 failed. A message already delivered or
// failed stays as it is, and other types change nothing (Ignored). A report
// may arrive before the sender has marked the message sent (the network
// can be that quick); it counts as sent then too.
func (s *Service) Report(ctx context.Context, id uuid.UUID, typ int) (Outcome, error) {
	now := s.now()
	var updates map[string]any
	var outcome Outcome
	switch typ {
	case dlrDelivered:
		outcome = Delivered
		updates = map[string]any{"status": models.SMSDelivered, "delivered_at": now}
	case dlrUndelivered, dlrSMSCUndelivered:
		outcome = Undelivered
		msg := fmt.Sprintf(reportErrorTemplate, typ)
		updates = map[string]any{"status": models.SMSFailed, "failed_at": now, "last_error": msg}
	default:
		return Ignored, nil
	}
	updates["sent_at"] = gorm.Expr("COALESCE(sent_at, ?)", now)
	res := s.db.WithContext(ctx).Model(&models.SMSMessage{}).
		Where("id = ? AND status IN ?", id, []string{models.SMSQueued, models.SMSSent}).Updates(updates)
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 0 {
		return Ignored, nil
	}
	s.opt.Metrics.SMS(string(outcome))
	return outcome, nil
}

// Message is an outbox message as lists show it: the number masked, never
// in clear or sealed, and not the text (a receipt's code is the artisan's).
type Message struct {
	ID          uuid.UUID
	ArtisanID   *uuid.UUID
	Kind        string
	ToMasked    string
	Status      string
	Attempts    int
	LastError   *string
	CreatedAt   time.Time
	SentAt      *time.Time
	DeliveredAt *time.Time
	FailedAt    *time.Time
}

// Statuses is every message status, for filters.
var Statuses = []string{models.SMSQueued, models.SMSSent, models.SMSDelivered, models.SMSFailed}

// List is a page of group groupID's messages, newest first, for those who
// may read the group (groups.Readable: its managers, its assigned auditors,
// admins; anyone else gets not_found or forbidden as there). status, when
// not empty, keeps the messages of that status.
func (s *Service) List(ctx context.Context, actor services.Actor, groupID uuid.UUID, status, cursor string, limit int) ([]Message, string, error) {
	db := s.db.WithContext(ctx)
	if status != "" && !slices.Contains(Statuses, status) {
		return nil, "", services.BadRequest("status must be one of %s", strings.Join(Statuses, ", "))
	}
	if _, err := groups.Readable(db, actor, groupID); err != nil {
		return nil, "", err
	}
	scope := "sms|" + groupID.String() + "|" + status
	q := db.Model(&models.SMSMessage{}).Where("group_id = ?", groupID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if cursor != "" {
		var before uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &before); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", before)
	}
	var rows []models.SMSMessage
	if err := q.Select("id", "artisan_id", "kind", "to_masked", "status", "attempts", "last_error", "created_at",
		"sent_at", "delivered_at", "failed_at").Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = s.cursor.Encode(scope, rows[len(rows)-1].ID)
	}
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[i] = Message{ID: r.ID, ArtisanID: r.ArtisanID, Kind: r.Kind, ToMasked: r.ToMasked, Status: r.Status,
			Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt, SentAt: r.SentAt,
			DeliveredAt: r.DeliveredAt, FailedAt: r.FailedAt}
	}
	return out, next, nil
}

// InboundRetention is how long a gateway id is remembered: far beyond any
// retry of Kannel's (seconds to minutes).
const InboundRetention = 30 * 24 * time.Hour

// Purge forgets the gateway ids received more than InboundRetention ago.
func (s *Service) Purge(ctx context.Context) error {
	return s.db.WithContext(ctx).Where("received_at < ?", s.now().Add(-InboundRetention)).Delete(&models.SMSInbound{}).Error
}
