package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// AccountView is an account with the name of its artisan, if it is one's.
type AccountView struct {
	models.LedgerAccount
	ArtisanName string
}

// GroupAccounts lists a group's accounts and its artisans' payables, with
// their balances: the group's own first, by type, then the artisans' by name.
func (s *Service) GroupAccounts(ctx context.Context, actor services.Actor, groupID uuid.UUID) ([]AccountView, error) {
	db := s.db.WithContext(ctx)
	if _, err := groups.Readable(db, actor, groupID); err != nil {
		return nil, err
	}
	var out []AccountView
	err := db.Table("ledger_accounts a").Select("a.*, COALESCE(ar.display_name, '') AS artisan_name").
		Joins("LEFT JOIN artisans ar ON a.owner_kind = ? AND ar.id = a.owner_id", models.OwnerArtisan).
		Where("a.group_id = ?", groupID).
		Order("a.owner_kind DESC, artisan_name, a.type, a.id").Scan(&out).Error
	return out, err
}

// TransactionQuery filters the ledger's transactions.
type TransactionQuery struct {
	GroupID, AccountID, From, To, Cursor string
	Limit                                int
}

// PostingView is a posting with its account.
type PostingView struct {
	models.LedgerPosting
	OwnerKind string
	OwnerID   uuid.UUID
	Type      string
}

// TransactionView is a transaction with its postings.
type TransactionView struct {
	models.LedgerTransaction
	Postings []PostingView
}

// Transactions lists transactions newest first, a page at a time, with
// their postings (two queries a page). Admins see every group's, auditors
// those of the groups assigned to them (groups.Readable); a producer must
// name a group she manages. Errors: bad_request
// (malformed filter or cursor), validation_failed (from after to),
// forbidden, not_found.
func (s *Service) Transactions(ctx context.Context, actor services.Actor, q TransactionQuery) ([]TransactionView, string, error) {
	db := s.db.WithContext(ctx)
	tx := db.Model(&models.LedgerTransaction{})
	if q.GroupID != "" {
		id, err := uuid.Parse(q.GroupID)
		if err != nil {
			return nil, "", services.BadRequest("group_id is not a UUID")
		}
		if _, err := groups.Readable(db, actor, id); err != nil {
			return nil, "", err
		}
		tx = tx.Where("group_id = ?", id)
	} else {
		if actor.Role == models.RoleProducer {
			return nil, "", services.Forbidden("a group manager must give group_id, one of her groups")
		}
		readable, all, err := groups.ReadableIDs(db, actor)
		if err != nil {
			return nil, "", services.Forbidden("only auditors, admins and group managers see the ledger")
		}
		if !all {
			tx = tx.Where("group_id IN (?)", readable)
		}
	}
	if q.AccountID != "" {
		id, err := uuid.Parse(q.AccountID)
		if err != nil {
			return nil, "", services.BadRequest("account is not a UUID")
		}
		tx = tx.Where("id IN (SELECT transaction_id FROM ledger_postings WHERE account_id = ?)", id)
	}
	from, to, err := Period(q.From, q.To)
	if err != nil {
		return nil, "", err
	}
	if from != nil {
		tx = tx.Where("occurred_at >= ?", *from)
	}
	if to != nil {
		tx = tx.Where("occurred_at < ?", *to)
	}
	scope := fmt.Sprintf("ledger|%s|%s|%s|%s", q.GroupID, q.AccountID, q.From, q.To)
	if q.Cursor != "" {
		var t time.Time
		var id uuid.UUID
		if err := s.cursor.Decode(q.Cursor, scope, &t, &id); err != nil {
			return nil, "", err
		}
		tx = tx.Where("(occurred_at, id) < (?, ?)", t.UTC(), id)
	}
	var ts []models.LedgerTransaction
	if err := tx.Order("occurred_at DESC, id DESC").Limit(q.Limit + 1).Find(&ts).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) > q.Limit {
		ts = ts[:q.Limit]
		last := ts[len(ts)-1]
		next = s.cursor.Encode(scope, last.OccurredAt.UTC(), last.ID)
	}
	out := make([]TransactionView, len(ts))
	if len(ts) == 0 {
		return out, next, nil
	}
	ids := make([]uuid.UUID, len(ts))
	index := map[uuid.UUID]int{}
	for i, t := range ts {
		ids[i], index[t.ID] = t.ID, i
		out[i].LedgerTransaction = t
	}
	var ps []PostingView
	if err := db.Table("ledger_postings p").Select("p.*, a.owner_kind, a.owner_id, a.type").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").Where("p.transaction_id IN ?", ids).
		Order("p.transaction_id, p.position").Scan(&ps).Error; err != nil {
		return nil, "", err
	}
	for _, p := range ps {
		i := index[p.TransactionID]
		out[i].Postings = append(out[i].Postings, p)
	}
	return out, next, nil
}

// Period parses from and to (RFC 3339; either may be empty). Errors:
// bad_request for a malformed time, validation_failed when from is after to.
func Period(rawFrom, rawTo string) (*time.Time, *time.Time, error) {
	parse := func(raw, name string) (*time.Time, error) {
		if raw == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return nil, services.BadRequest("%s must be an RFC 3339 time such as 2026-11-01T00:00:00Z", name)
		}
		t = t.UTC()
		return &t, nil
	}
	from, err := parse(rawFrom, "from")
	if err != nil {
		return nil, nil, err
	}
	to, err := parse(rawTo, "to")
	if err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && from.After(*to) {
		return nil, nil, services.Invalid(map[string]string{"from": "must not be after to"})
	}
	return from, to, nil
}

// Statement is an artisan's account over a period.
type Statement struct {
	ArtisanID    uuid.UUID
	GroupID      uuid.UUID
	DisplayName  string
	Currency     string
	From, To     *time.Time
	Earned       map[string]int64 // by transaction kind: sale, cash_sale, distribution, refund (negative)
	Distributed  int64            // her parts of distributions (also in Earned)
	PaidOut      int64
	Acknowledged int64           // of PaidOut, what she has confirmed
	Balance      int64           // at the end of the period
	Minutes      int64           // labour of the units sold in the period, less refunds
	Payouts      []models.Payout // made in the period, oldest first
}

// Statement is what an artisan earned, was paid and confirmed in a period,
// and her balance at its end. Those who may read her group (groups.Readable)
// see it; to anyone else who may read some group she is not_found.
func (s *Service) Statement(ctx context.Context, actor services.Actor, artisanID uuid.UUID, rawFrom, rawTo string) (Statement, error) {
	db := s.db.WithContext(ctx)
	var a models.Artisan
	if err := db.Select("id, group_id, display_name").Where("id = ?", artisanID).Limit(1).Find(&a).Error; err != nil {
		return Statement{}, err
	}
	if a.ID == uuid.Nil {
		if actor.Staff() || actor.Role == models.RoleProducer {
			return Statement{}, services.NotFound("artisan")
		}
		return Statement{}, services.Forbidden("only the group's managers, auditors and admins see statements")
	}
	if _, err := groups.Readable(db, actor, a.GroupID); err != nil {
		if services.IsCode(err, services.CodeNotFound) {
			return Statement{}, services.NotFound("artisan")
		}
		return Statement{}, err
	}
	from, to, err := Period(rawFrom, rawTo)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{ArtisanID: a.ID, GroupID: a.GroupID, DisplayName: a.DisplayName, Currency: s.opt.Currency,
		From: from, To: to, Earned: map[string]int64{}}
	inPeriod := func(tx *gorm.DB, col string) *gorm.DB {
		if from != nil {
			tx = tx.Where(col+" >= ?", *from)
		}
		if to != nil {
			tx = tx.Where(col+" < ?", *to)
		}
		return tx
	}
	var rows []struct {
		Kind   string
		Amount int64
	}
	q := db.Table("ledger_postings p").Select("t.kind, p.amount").
		Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Joins("JOIN ledger_accounts acc ON acc.id = p.account_id").
		Where("acc.owner_kind = ? AND acc.owner_id = ? AND acc.type = ? AND acc.currency = ?",
			models.OwnerArtisan, a.ID, TypePayable, s.opt.Currency)
	if err := inPeriod(q, "t.occurred_at").Scan(&rows).Error; err != nil {
		return st, err
	}
	for _, r := range rows {
		switch r.Kind {
		case KindPayout:
			st.PaidOut -= r.Amount
			continue
		case KindDistribution:
			st.Distributed += r.Amount
		}
		st.Earned[r.Kind] += r.Amount
	}
	// Her minutes come from the sales' recorded work, not from her postings:
	// a share rounded to nothing, or a refund the platform advanced, posts
	// nothing to her, and she may be listed more than once on a line.
	var sales []struct {
		Kind string
		Memo string
	}
	q = db.Model(&models.LedgerTransaction{}).Select("kind, memo").
		Where("group_id = ? AND kind IN ? AND memo LIKE ?", a.GroupID, []string{KindSale, KindCashSale, KindRefund}, "%"+a.ID.String()+"%")
	if err := inPeriod(q, "occurred_at").Scan(&sales).Error; err != nil {
		return st, err
	}
	for _, r := range sales {
		w, err := WorkOf(r.Kind, r.Memo)
		if err != nil {
			return st, err
		}
		for _, mw := range w.Makers {
			if mw.ArtisanID == a.ID {
				st.Minutes += mw.Minutes
			}
		}
	}
	if err := inPeriod(db.Where("artisan_id = ?", a.ID), "created_at").Order("created_at, id").Find(&st.Payouts).Error; err != nil {
		return st, err
	}
	for _, p := range st.Payouts {
		if p.AcknowledgedAt != nil && p.Currency == s.opt.Currency {
			st.Acknowledged += p.Amount
		}
	}
	bal := db.Table("ledger_postings p").Select("COALESCE(SUM(p.amount), 0)").
		Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Joins("JOIN ledger_accounts acc ON acc.id = p.account_id").
		Where("acc.owner_kind = ? AND acc.owner_id = ? AND acc.type = ? AND acc.currency = ?",
			models.OwnerArtisan, a.ID, TypePayable, s.opt.Currency)
	if to != nil {
		bal = bal.Where("t.occurred_at < ?", *to)
	}
	err = bal.Scan(&st.Balance).Error
	return st, err
}
