package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
)

// PostTx books e inside the caller's database transaction, so that a
// booking commits or rolls back with the change it records (an order's
// payment, a payout). Locks are taken in one order: the chain's head, then
// the accounts in id order; so bookings wait for each other instead of
// deadlocking, and two bookings of one chain are serialised. After an
// error tx must be rolled back (or to a savepoint taken before): part of
// the booking may have been written when a balance refused it.
func (s *Service) PostTx(tx *gorm.DB, e Entry) (models.LedgerTransaction, bool, error) {
	if err := check(e); err != nil {
		return models.LedgerTransaction{}, false, err
	}
	chainKey := PlatformChain
	if e.GroupID != nil {
		chainKey = e.GroupID.String()
	}
	head, accounts, err := s.lock(tx, chainKey, e.Postings)
	if err != nil {
		return models.LedgerTransaction{}, false, err
	}
	postings := make([]models.LedgerPosting, len(e.Postings))
	for i, p := range e.Postings {
		postings[i] = models.LedgerPosting{Position: i + 1, AccountID: accounts[key(p)].ID, Amount: p.Amount, Currency: p.Currency}
	}

	if e.ID == uuid.Nil {
		e.ID = models.NewID()
	}
	t := models.LedgerTransaction{ID: e.ID, ChainKey: chainKey, ChainSeq: head.Seq + 1, Reference: e.Reference,
		Kind: e.Kind, GroupID: e.GroupID, Memo: e.Memo, OccurredAt: s.now(), PrevID: head.HeadTransactionID, PrevHash: head.HeadHash,
		HashVersion: s.hashVersion}
	// The identities hashed are the account rows as locked: what the
	// database says each account is at the moment it is posted to.
	chained := make([]posted, len(postings))
	byID := map[uuid.UUID]*chainAccount{}
	for i := range postings {
		postings[i].TransactionID = t.ID
		a := accounts[key(e.Postings[i])]
		if byID[a.ID] == nil {
			byID[a.ID] = newChainAccount(a)
		}
		chained[i] = posted{LedgerPosting: postings[i], acct: byID[a.ID]}
	}
	t.Hash = chainHash(t, chained)
	cs := changesOf(e.Postings, accounts)
	// Inserting first and looking for an earlier booking only when the
	// reference is taken saves the common case a round trip.
	inserted, err := s.engine.write(tx, t, postings, cs)
	if err != nil {
		return t, false, err
	}
	if !inserted {
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
		// The memo is not compared: it may name what the caller made anew
		// for this attempt (a payout's id), while the postings say what moved.
		if existing.Kind != e.Kind || existing.ChainKey != chainKey || !slices.Equal(booked, postings) {
			return existing, false, ErrReferenceReused
		}
		return existing, true, nil
	}
	return t, false, nil
}

// engine is how a booking reaches the database, chosen once in New: on
// PostgreSQL in as few round trips as it allows (post_postgres.go), on
// SQLite statement by statement (post_sqlite.go).
type engine struct {
	// lockAtOnce locks a chain's head and then the accounts of ps in one
	// statement, reporting false when the chain or an account does not
	// exist yet; nil where lock's statement-by-statement path is the only one.
	lockAtOnce func(tx *gorm.DB, chainKey string, ps []Posting) (models.LedgerChain, map[accountKey]models.LedgerAccount, bool, error)
	// write writes a booking: the transaction, unless its reference is
	// taken (then it reports false and writes nothing more), its postings,
	// the balances and the chain's head.
	write func(tx *gorm.DB, t models.LedgerTransaction, postings []models.LedgerPosting, cs []change) (bool, error)
}

var engines = map[models.Dialect]engine{models.Postgres: postgresEngine, models.SQLite: sqliteEngine}

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
		a.IdentityHash = identityHash(a)
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

// lock locks the chain's head, starting the chain if it has none, then the
// postings' accounts in id order, opening those that do not exist yet.
func (s *Service) lock(tx *gorm.DB, chainKey string, ps []Posting) (models.LedgerChain, map[accountKey]models.LedgerAccount, error) {
	if s.engine.lockAtOnce != nil {
		head, accounts, ok, err := s.engine.lockAtOnce(tx, chainKey, ps)
		if err != nil || ok {
			return head, accounts, err
		}
		// A new chain or a new account: the locks taken so far are in the
		// same order as the ones below take them again.
	}
	head, err := lockChain(tx, chainKey)
	if err != nil {
		return head, nil, err
	}
	accounts, err := s.accounts(tx, ps)
	return head, accounts, err
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

// lockChains locks the heads of the chains of groups (nil: the platform's)
// in chain key order, for a database transaction that books on several:
// each booking locks its chain's head and then its accounts, so without
// this a sale of two groups' lines would hold the platform's accounts
// (booked by its first line) while waiting for the second group's head,
// which a sale of that group holds while it waits for the same accounts.
func lockChains(tx *gorm.DB, groups []*uuid.UUID) error {
	var keys []string
	for _, g := range groups {
		k := PlatformChain
		if g != nil {
			k = g.String()
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) < 2 {
		return nil // its booking locks it first anyway
	}
	for _, k := range keys {
		if _, err := lockChain(tx, k); err != nil {
			return err
		}
	}
	return nil
}

// change is what a booking adds to one account's balance.
type change struct {
	account models.LedgerAccount // as locked, before the booking
	posting Posting              // one of the account's postings: its owner and type
	amount  int64
}

// changesOf sums the postings by account, in account id order, leaving out
// accounts whose postings cancel out.
func changesOf(ps []Posting, accounts map[accountKey]models.LedgerAccount) []change {
	byID := map[uuid.UUID]*change{}
	var out []change
	for _, p := range ps {
		a := accounts[key(p)]
		c, ok := byID[a.ID]
		if !ok {
			c = &change{account: a, posting: p}
			byID[a.ID] = c
		}
		c.amount += p.Amount
	}
	for _, c := range byID {
		if c.amount != 0 {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b change) int { return bytes.Compare(a.account.ID[:], b.account.ID[:]) })
	return out
}

// refusal names the first account, in id order, that cannot afford its part
// of a booking whose balance update changed fewer rows than it should. The
// balances are those read when the accounts were locked: the update may have
// changed the others' already.
func refusal(cs []change, updated int64) error {
	for _, c := range cs {
		if a := c.account; !a.MayGoNegative && a.Balance+c.amount < 0 {
			return &InsufficientFundsError{AccountID: a.ID, Owner: c.posting.Owner, Type: c.posting.Type, Balance: a.Balance, Currency: a.Currency}
		}
	}
	return fmt.Errorf("ledger: %d of %d balances updated", updated, len(cs))
}
