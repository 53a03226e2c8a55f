package receipts

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// State is a payout's receipt as the payout shows it.
type State struct {
	Code   string
	Status string // the SMS's (queued, sent, delivered, failed) until she answers: confirmed or disputed
	SentAt *time.Time
	// ConfirmedAt and DisputedAt: her answer, at most one of them.
	ConfirmedAt, DisputedAt *time.Time
}

// stateRow is a receipt with its message's status. (Rows that carry more
// embed models.Receipt and these two fields themselves: gorm does not fill
// the fields of an unexported embedded struct.)
type stateRow struct {
	models.Receipt
	MessageStatus *string
	SentAt        *time.Time
}

func (r stateRow) state() State { return stateOf(r.Receipt, r.MessageStatus, r.SentAt) }

// Queued is the state of a receipt just written: its SMS queued, no answer.
func Queued(code string) State { return stateOf(models.Receipt{Code: code}, nil, nil) }

// stateOf is a receipt's state: her answer if she gave one, else its SMS's
// status (queued while there is no message yet).
func stateOf(r models.Receipt, messageStatus *string, sentAt *time.Time) State {
	st := State{Code: r.Code, Status: models.SMSQueued, SentAt: sentAt, ConfirmedAt: r.ConfirmedAt, DisputedAt: r.DisputedAt}
	switch {
	case r.ConfirmedAt != nil:
		st.Status = models.ReceiptConfirmed
	case r.DisputedAt != nil:
		st.Status = models.ReceiptDisputed
	case messageStatus != nil:
		st.Status = *messageStatus
	}
	return st
}

// States are the receipts of the given payouts, by payout id; a payout with
// no receipt is not in the map. Callers have decided already that the payouts
// may be shown.
func (s *Service) States(ctx context.Context, payoutIDs []uuid.UUID) (map[uuid.UUID]State, error) {
	out := map[uuid.UUID]State{}
	if len(payoutIDs) == 0 {
		return out, nil
	}
	var rows []stateRow
	if err := s.db.WithContext(ctx).Table("receipts r").Select("r.*, m.status AS message_status, m.sent_at").
		Joins("LEFT JOIN sms_messages m ON m.id = r.message_id").Where("r.payout_id IN ?", payoutIDs).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.PayoutID] = r.state()
	}
	return out, nil
}

// Dispute is a payout its artisan said by SMS did not reach her.
type Dispute struct {
	Code        string
	DisputedAt  time.Time
	DisplayName string // the artisan's
	Payout      models.Payout
	Receipt     State
}

// Disputes lists a group's disputed payouts, the latest dispute first, a
// page at a time, for those who may read its books (groups.Readable:
// managers, assigned auditors, admins). Errors: forbidden, not_found,
// bad_request (cursor).
func (s *Service) Disputes(ctx context.Context, actor services.Actor, groupID uuid.UUID, cursor string, limit int) ([]Dispute, string, error) {
	db := s.db.WithContext(ctx)
	if _, err := groups.Readable(db, actor, groupID); err != nil {
		return nil, "", err
	}
	q := db.Table("receipts r").Select("r.*, m.status AS message_status, m.sent_at, a.display_name").
		Joins("JOIN artisans a ON a.id = r.artisan_id").Joins("LEFT JOIN sms_messages m ON m.id = r.message_id").
		Where("r.group_id = ? AND r.disputed_at IS NOT NULL", groupID)
	scope := "disputes|" + groupID.String()
	if cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		q = q.Where("(r.disputed_at, r.id) < (?, ?)", t.UTC(), id)
	}
	var rows []struct {
		models.Receipt
		MessageStatus *string
		SentAt        *time.Time
		DisplayName   string
	}
	if err := q.Order("r.disputed_at DESC, r.id DESC").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		next = s.cursor.Encode(scope, last.DisputedAt.UTC(), last.ID)
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.PayoutID
	}
	var ps []models.Payout
	if len(ids) > 0 {
		if err := db.Where("id IN ?", ids).Find(&ps).Error; err != nil {
			return nil, "", err
		}
	}
	byID := map[uuid.UUID]models.Payout{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	out := make([]Dispute, len(rows))
	for i, r := range rows {
		out[i] = Dispute{Code: r.Code, DisputedAt: r.DisputedAt.UTC(), DisplayName: r.DisplayName, Payout: byID[r.PayoutID],
			Receipt: stateOf(r.Receipt, r.MessageStatus, r.SentAt)}
	}
	return out, next, nil
}
