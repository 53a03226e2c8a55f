package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
)

// PostTx books e inside the caller's database transaction, so that a
// booking commits or rolls back with the change it records (an order's
// payment, a payout). Locks are taken in one order: the chain's head, then
// the accounts in id order; so bookings wait for each other instead of
// deadlocking, and two bookings of one chain are serialised.
func (s *Service) PostTx(tx *gorm.DB, e Entry) (models.LedgerTransaction, bool, error) {
	if err := check(e); err != nil {
		return models.LedgerTransaction{}, false, err
	}
	chainKey := PlatformChain
	if e.GroupID != nil {
		chainKey = e.GroupID.String()
	}
	head, err := lockChain(tx, chainKey)
	if err != nil {
		return models.LedgerTransaction{}, false, err
	}
	accounts, err := s.accounts(tx, e.Postings)
	if err != nil {
		return models.LedgerTransaction{}, false, err
	}
	postings := make([]models.LedgerPosting, len(e.Postings))
	for i, p := range e.Postings {
		postings[i] = models.LedgerPosting{Position: i + 1, AccountID: accounts[key(p)].ID, Amount: p.Amount, Currency: p.Currency}
	}

	t := models.LedgerTransaction{ID: models.NewID(), ChainKey: chainKey, ChainSeq: head.Seq + 1, Reference: e.Reference,
		Kind: e.Kind, GroupID: e.GroupID, Memo: e.Memo, OccurredAt: s.now(), PrevID: head.HeadTransactionID, PrevHash: head.HeadHash}
	for i := range postings {
		postings[i].TransactionID = t.ID
	}
	t.Hash = chainHash(t, postings)
	// Inserting first and looking for an earlier booking only when the
	// reference is taken saves the common case a round trip.
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "reference"}}, DoNothing: true}).Create(&t)
	if res.Error != nil {
		return t, false, res.Error
	}
	if res.RowsAffected == 0 {
		var existing models.LedgerTransaction
		if err := tx.Where("reference = ?", e.Reference).First(&existing).Error; err != nil {
			return existing, false, err
		}
		var booked []models.LedgerPosting
		if err := tx.Where("transaction_id = ?", existing.ID).Order("position").Find(&booked).Error; err != nil {
			return existing, false, err
		}
		for i := range postings {
			postings[i].TransactionID = existing.ID
		}
		if existing.Kind != e.Kind || !slices.Equal(booked, postings) {
			return existing, false, ErrReferenceReused
		}
		return existing, true, nil
	}
	if err := tx.Create(&postings).Error; err != nil {
		return t, false, err
	}
	if err := applyBalances(tx, e.Postings, accounts); err != nil {
		return t, false, err
	}
	err = tx.Model(&models.LedgerChain{}).Where("chain_key = ?", chainKey).
		Updates(map[string]any{"seq": t.ChainSeq, "head_hash": t.Hash, "head_transaction_id": t.ID}).Error
	return t, false, err
}

// check refuses an entry that cannot be booked.
func check(e Entry) error {
	if strings.TrimSpace(e.Reference) == "" || len(e.Reference) > 200 || e.Kind == "" {
		return errors.New("ledger: an entry needs a reference (at most 200 bytes) and a kind")
	}
	if len(e.Postings) < 2 {
		return ErrUnbalanced
	}
	sums := map[string]int64{}
	for _, p := range e.Postings {
		if p.Amount == 0 || !models.ValidCurrency(p.Currency) || p.Type == "" || p.Owner.Kind == "" {
			return ErrUnbalanced
		}
		if p.Amount > maxAmount || p.Amount < -maxAmount {
			return fmt.Errorf("ledger: amount %d out of range", p.Amount)
		}
		sums[p.Currency] += p.Amount
	}
	for _, sum := range sums {
		if sum != 0 {
			return ErrUnbalanced
		}
	}
	return nil
}

// maxAmount bounds one posting, so that no sum of a realistic number of
// them can overflow int64.
const maxAmount = 1_000_000_000_000_000

type accountKey struct {
	kind     string
	owner    uuid.UUID
	typ      string
	currency string
}

func key(p Posting) accountKey { return accountKey{p.Owner.Kind, p.Owner.ID, p.Type, p.Currency} }

// accounts finds the accounts of the postings, opening those that do not
// exist yet, and locks them in id order until the transaction ends: so
// their balances can then be changed in one statement, whatever order it
// visits them in, without two bookings deadlocking; and so the postings'
// foreign keys find them locked already, instead of taking KEY SHARE locks
// that every later update of a hot account (the platform's) must merge.
func (s *Service) accounts(tx *gorm.DB, ps []Posting) (map[accountKey]models.LedgerAccount, error) {
	out := map[accountKey]models.LedgerAccount{}
	find := func() error {
		var conds []string
		var args []any
		for _, p := range ps {
			conds = append(conds, "(owner_kind = ? AND owner_id = ? AND type = ? AND currency = ?)")
			args = append(args, p.Owner.Kind, p.Owner.ID, p.Type, p.Currency)
		}
		var found []models.LedgerAccount
		if err := models.ForUpdate(tx).Where(strings.Join(conds, " OR "), args...).Order("id").Find(&found).Error; err != nil {
			return err
		}
		for _, a := range found {
			out[accountKey{a.OwnerKind, a.OwnerID, a.Type, a.Currency}] = a
		}
		return nil
	}
	if err := find(); err != nil {
		return nil, err
	}
	var missing []models.LedgerAccount
	seen := map[accountKey]bool{}
	for _, p := range ps {
		k := key(p)
		if _, ok := out[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		a := models.LedgerAccount{ID: models.NewID(), OwnerKind: p.Owner.Kind, OwnerID: p.Owner.ID, Type: p.Type,
			Currency: p.Currency, MayGoNegative: mayGoNegative[p.Type], CreatedAt: s.now()}
		if p.Owner.GroupID != uuid.Nil {
			g := p.Owner.GroupID
			a.GroupID = &g
		}
		missing = append(missing, a)
	}
	if len(missing) == 0 {
		return out, nil
	}
	// Another booking may open the same account at once: keep whichever is first.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&missing).Error; err != nil {
		return nil, err
	}
	return out, find()
}

// lockChain returns the head of a chain, locked until the transaction ends,
// starting the chain if it has none.
func lockChain(tx *gorm.DB, chainKey string) (models.LedgerChain, error) {
	var head models.LedgerChain
	if err := models.ForUpdate(tx).Where("chain_key = ?", chainKey).Limit(1).Find(&head).Error; err != nil {
		return head, err
	}
	if head.ChainKey != "" {
		return head, nil
	}
	start := models.LedgerChain{ChainKey: chainKey, Seq: 0, HeadHash: make([]byte, 32)}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&start).Error; err != nil {
		return head, err
	}
	err := models.ForUpdate(tx).Where("chain_key = ?", chainKey).First(&head).Error
	return head, err
}

// applyBalances adds the postings to their accounts' balances, refusing
// (with *InsufficientFundsError) any that would take an account that must
// stay at or above zero below it. The condition is in the UPDATE, so it
// holds against every other writer; the table's CHECK is the backstop. One
// statement for all the accounts, not a round trip each: they are locked
// already (accounts), so the order it updates them in does not matter.
func applyBalances(tx *gorm.DB, ps []Posting, accounts map[accountKey]models.LedgerAccount) error {
	deltas := map[uuid.UUID]int64{}
	byID := map[uuid.UUID]Posting{}
	for _, p := range ps {
		a := accounts[key(p)]
		deltas[a.ID] += p.Amount
		byID[a.ID] = p
	}
	var ids []uuid.UUID
	var cases []any // id, delta, id, delta, …
	for id, d := range deltas {
		if d != 0 {
			ids = append(ids, id)
			cases = append(cases, id, d)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	delta := "CASE id" + strings.Repeat(" WHEN ? THEN CAST(? AS bigint)", len(ids)) + " END"
	res := tx.Exec("UPDATE ledger_accounts SET balance = balance + "+delta+
		" WHERE id IN ? AND (may_go_negative OR balance + "+delta+" >= 0)", slices.Concat(cases, []any{ids}, cases)...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == int64(len(ids)) {
		return nil
	}
	// Refused: name the first account, in id order, that cannot afford its
	// part, by the balance read when it was locked; the UPDATE may have
	// changed the others' already.
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		p := byID[id]
		if a := accounts[key(p)]; !a.MayGoNegative && a.Balance+deltas[id] < 0 {
			return &InsufficientFundsError{AccountID: id, Owner: p.Owner, Type: p.Type, Balance: a.Balance, Currency: a.Currency}
		}
	}
	return fmt.Errorf("ledger: %d of %d balances updated", res.RowsAffected, len(ids))
}

// Retry runs fn again, up to five times in all, when PostgreSQL aborted it
// for a deadlock or a serialization failure: both are transient, and the
// whole transaction is safe to redo because nothing of it was committed.
func Retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 5 {
		if err = fn(); !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func transient(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}
