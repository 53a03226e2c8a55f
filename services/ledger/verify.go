package ledger

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// BadTransaction names the first transaction verification found wrong.
type BadTransaction struct {
	ID       uuid.UUID // the transaction, or the missing one as its successor or the chain's head names it
	ChainKey string
	ChainSeq int64
	Problem  string
	// accounts are those a version 2 transaction that does not match its
	// hash posts to: one of them may be what changed.
	accounts []*chainAccount
}

// BadAccount names an account whose row no longer is what the ledger
// recorded: its owner, group, type, currency or overdraft permission was
// changed. The fields are the row as it now reads.
type BadAccount struct {
	ID        uuid.UUID
	OwnerKind string
	OwnerID   uuid.UUID
	GroupID   *uuid.UUID
	Type      string
	Currency  string
	Problem   string
}

// Verification is what Verify found.
type Verification struct {
	OK                  bool
	TransactionsChecked int64
	HeadHash            []byte // of the chain heads as recomputed (headsHash)
	TrialBalanceOK      bool   // postings sum to zero per currency, and every balance is the sum of its postings
	FirstBad            *BadTransaction
	FirstBadAccount     *BadAccount // the account found changed, when one is
	Heads               []Head
	at                  map[string]map[int64][]byte // recomputed hashes at the positions asked for
	roots               map[string]map[int64][]byte // roots of the chains' trees (tree.go) of the recomputed hashes, there
}

// verifyChunk is how many transactions Verify reads per query.
const verifyChunk = 20000

// Verify recomputes every chain from its start and the trial balance, in
// one consistent snapshot of the ledger. It needs no trust in the stored
// hashes: each transaction's hash is recomputed from its contents and its
// predecessor's recomputed hash.
func (s *Service) Verify(ctx context.Context) (Verification, error) {
	start := time.Now()
	v, err := s.verify(ctx, nil)
	if err == nil {
		s.opt.Metrics.LedgerVerified(time.Since(start), v.OK)
	}
	return v, err
}

func (s *Service) verify(ctx context.Context, want map[string]map[int64]bool) (Verification, error) {
	v := Verification{TrialBalanceOK: true, at: map[string]map[int64][]byte{}, roots: map[string]map[int64][]byte{}}
	err := models.ReadSnapshot(ctx, s.db, func(tx *gorm.DB) error {
		var heads []models.LedgerChain
		if err := tx.Order("chain_key").Find(&heads).Error; err != nil {
			return err
		}
		// Every account at once (there are far fewer than postings), so
		// that each posting finds its account's identity in memory.
		accounts, err := readAccounts(tx, "")
		if err != nil {
			return err
		}
		w := walk{v: &v, want: want, chains: map[string]*chainState{}, accounts: accounts, totals: map[string]int64{}}
		// Transactions and their postings are read in transaction id order,
		// chunk by chunk: both reads are then range scans of a primary key
		// that follow the tables' physical order (ids are time-ordered). In
		// chain order PostgreSQL visited a transactions page once per row
		// and joined each chunk's postings by scanning all of them.
		var after *uuid.UUID
		for {
			ts, err := readTransactions(tx, after)
			if err != nil {
				return err
			}
			if len(ts) == 0 {
				break
			}
			last := ts[len(ts)-1].ID
			ps, err := readPostings(tx, after, last, accounts)
			if err != nil {
				return err
			}
			for _, t := range ts {
				w.add(t, ps[t.ID])
			}
			after = &last
		}
		keys := slices.Sorted(maps.Keys(w.chains))
		for _, k := range keys {
			c := w.chains[k]
			c.flush(&w)
			c.end(heads)
			v.Heads = append(v.Heads, Head{ChainKey: c.key, Seq: c.seq, Hash: c.hash})
		}
		// The first problem in chain order, as a walk chain after chain would find it.
		for _, k := range keys {
			if c := w.chains[k]; c.problem != nil {
				v.bad(*c.problem)
			}
		}
		// A chain whose head names transactions that are all gone.
		for _, h := range heads {
			if w.chains[h.ChainKey] == nil && h.Seq > 0 {
				v.bad(BadTransaction{ID: deref(h.HeadTransactionID), ChainKey: h.ChainKey, ChainSeq: h.Seq,
					Problem: "missing: the chain's head names it, and the chain has no transactions"})
			}
		}
		for _, total := range w.totals {
			if total != 0 {
				v.TrialBalanceOK = false
			}
		}
		for _, a := range accounts {
			if a.Balance != a.sum {
				v.TrialBalanceOK = false
			}
		}
		v.FirstBadAccount = changedAccount(v.FirstBad, accounts)
		return nil
	})
	if err != nil {
		return v, err
	}
	v.HeadHash = headsHash(v.Heads)
	v.OK = v.FirstBad == nil && v.FirstBadAccount == nil && v.TrialBalanceOK
	return v, nil
}

// readTransactions reads the verifyChunk transactions that follow the id
// after (from the first if nil), in id order. It scans rows itself: gorm's
// reflection cost more than the hashing.
func readTransactions(tx *gorm.DB, after *uuid.UUID) ([]models.LedgerTransaction, error) {
	q := "SELECT id, chain_key, chain_seq, reference, kind, group_id, memo, occurred_at, prev_id, prev_hash, hash, hash_version FROM ledger_transactions"
	var args []any
	if after != nil {
		q += " WHERE id > ?"
		args = append(args, *after)
	}
	rows, err := tx.Raw(q+" ORDER BY id LIMIT ?", append(args, verifyChunk)...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ts := make([]models.LedgerTransaction, 0, verifyChunk)
	for rows.Next() {
		var t models.LedgerTransaction
		if err := rows.Scan(&t.ID, &t.ChainKey, &t.ChainSeq, &t.Reference, &t.Kind, &t.GroupID, &t.Memo, &t.OccurredAt,
			&t.PrevID, &t.PrevHash, &t.Hash, &t.HashVersion); err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// readPostings reads the postings of the transactions with ids in (after,
// last], by transaction, in position order, each with its account from
// accounts (an account the postings name and accounts lacks is added as
// missing). They are put in order here: sorting them in PostgreSQL made it
// choose a bitmap scan and then a sort that spilled to disk, taking five
// times as long as the scan.
func readPostings(tx *gorm.DB, after *uuid.UUID, last uuid.UUID, accounts map[uuid.UUID]*chainAccount) (map[uuid.UUID][]posted, error) {
	q := "SELECT transaction_id, position, account_id, amount, currency FROM ledger_postings WHERE transaction_id <= ?"
	args := []any{last}
	if after != nil {
		q += " AND transaction_id > ?"
		args = append(args, *after)
	}
	rows, err := tx.Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[uuid.UUID][]posted, verifyChunk)
	for rows.Next() {
		var p posted
		if err := rows.Scan(&p.TransactionID, &p.Position, &p.AccountID, &p.Amount, &p.Currency); err != nil {
			return nil, err
		}
		p.acct = accountOf(accounts, p.AccountID)
		out[p.TransactionID] = append(out[p.TransactionID], p)
	}
	for _, ps := range out {
		slices.SortFunc(ps, func(a, b posted) int { return a.Position - b.Position })
	}
	return out, rows.Err()
}

// accountOf is the account of a posting, a missing one if there is no such
// row (only possible with foreign keys set aside).
func accountOf(accounts map[uuid.UUID]*chainAccount, id uuid.UUID) *chainAccount {
	a := accounts[id]
	if a == nil {
		a = &chainAccount{LedgerAccount: models.LedgerAccount{ID: id}, missing: true}
		accounts[id] = a
	}
	return a
}

// readAccounts reads the accounts matching where (all if empty), by id.
// It scans rows itself, as readTransactions does.
func readAccounts(tx *gorm.DB, where string, args ...any) (map[uuid.UUID]*chainAccount, error) {
	q := "SELECT id, owner_kind, owner_id, group_id, type, currency, may_go_negative, balance, identity_hash FROM ledger_accounts"
	if where != "" {
		q += " WHERE " + where
	}
	rows, err := tx.Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]*chainAccount{}
	for rows.Next() {
		var a models.LedgerAccount
		if err := rows.Scan(&a.ID, &a.OwnerKind, &a.OwnerID, &a.GroupID, &a.Type, &a.Currency, &a.MayGoNegative, &a.Balance,
			&a.IdentityHash); err != nil {
			return nil, err
		}
		out[a.ID] = newChainAccount(a)
	}
	return out, rows.Err()
}

// changedAccount names the account that verification finds changed, if
// any: first, among the accounts of the first bad transaction (in posting
// order), one whose row no longer matches the identity hash it was opened
// with, then one no transaction that still matches its hash vouches for
// (the identity hash can be recomputed by whoever edits the row; the
// chain's hashes cannot, without breaking the chain or a checkpoint); then
// any account whose row does not match its identity hash, in id order.
func changedAccount(first *BadTransaction, accounts map[uuid.UUID]*chainAccount) *BadAccount {
	bad := func(a *chainAccount, problem string) *BadAccount {
		return &BadAccount{ID: a.ID, OwnerKind: a.OwnerKind, OwnerID: a.OwnerID, GroupID: a.GroupID, Type: a.Type,
			Currency: a.Currency, Problem: problem}
	}
	const edited = "its owner, group, type or currency is not what it was when it was opened: the account was edited"
	if first != nil {
		for _, a := range first.accounts {
			if a.missing {
				return bad(a, "missing: postings name it, and there is no such account")
			}
			if a.edited() {
				return bad(a, edited)
			}
		}
		for _, a := range first.accounts {
			if !a.vouched {
				return bad(a, "no transaction that still matches its hash posts to it, and the first that posts to it does not match: "+
					"its owner, group, type or currency was probably changed")
			}
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(accounts), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		if a := accounts[id]; a.edited() {
			return bad(a, edited)
		}
	}
	return nil
}

// edited reports whether the account's row no longer hashes to the
// identity hash it recorded when it was opened.
func (a *chainAccount) edited() bool {
	return !a.missing && a.IdentityHash != nil && !bytes.Equal(identityHash(a.LedgerAccount), a.IdentityHash)
}

// walk is the state of a verification: every chain's walk, and the sums.
type walk struct {
	v        *Verification
	want     map[string]map[int64]bool // chain positions whose hashes to keep
	chains   map[string]*chainState
	accounts map[uuid.UUID]*chainAccount // each with the sum of its postings
	totals   map[string]int64            // by currency
}

// add takes the next transaction in id order into its chain's walk.
func (w *walk) add(t models.LedgerTransaction, ps []posted) {
	for _, p := range ps {
		p.acct.sum += p.Amount
		w.totals[p.Currency] += p.Amount
	}
	w.v.TransactionsChecked++
	c := w.chains[t.ChainKey]
	if c == nil {
		c = &chainState{key: t.ChainKey, hash: make([]byte, 32)}
		if w.want[t.ChainKey] != nil {
			c.tree = &frontier{}
		}
		w.chains[t.ChainKey] = c
	}
	// Within a chain, ids follow the sequence as long as the clocks of the
	// servers that booked it agree; a transaction that comes before its
	// predecessor waits for it.
	if _, twice := c.early[t.ChainSeq]; t.ChainSeq > c.seq+1 && !twice {
		if c.early == nil {
			c.early = map[int64]early{}
		}
		c.early[t.ChainSeq] = early{t, ps}
		return
	}
	c.next(t, ps, w)
	for {
		e, ok := c.early[c.seq+1]
		if !ok {
			return
		}
		delete(c.early, c.seq+1)
		c.next(e.t, e.ps, w)
	}
}

// chainState is the walk along one chain.
type chainState struct {
	key     string
	seq     int64
	last    uuid.UUID // the transaction walked last
	hash    []byte
	broken  bool            // after the first problem the rest of the chain is not judged again
	problem *BadTransaction // the first
	early   map[int64]early // read before their predecessor, by sequence
	tree    *frontier       // the chain's tree of recomputed hashes, when positions are wanted
}

type early struct {
	t  models.LedgerTransaction
	ps []posted
}

func (c *chainState) next(t models.LedgerTransaction, ps []posted, w *walk) {
	// Hashed from the recomputed predecessor's hash, so a later checkpoint
	// position reflects any damage before it; when the recorded one is the
	// same, this is also the hash to check.
	recorded := t.PrevHash
	t.PrevHash = c.hash
	hash := chainHash(t, ps)
	// Whether the transaction matches its own hash, whatever came before
	// it: if it does, its accounts are as they were when it was booked.
	matches := bytes.Equal(hash, t.Hash)
	if !bytes.Equal(recorded, c.hash) {
		t.PrevHash = recorded
		matches = bytes.Equal(chainHash(t, ps), t.Hash)
	}
	if matches && t.HashVersion >= hashV2 {
		for _, p := range ps {
			p.acct.vouched = true
		}
	}
	if !c.broken {
		problem := ""
		id, seq := t.ID, t.ChainSeq
		switch {
		case t.ChainSeq != c.seq+1 && deref(t.PrevID) == c.last:
			// Its recorded predecessor is the one just walked: nothing is
			// missing, its own number was changed.
			problem = fmt.Sprintf("its sequence number is %d, after %d: altered", t.ChainSeq, c.seq)
		case t.ChainSeq != c.seq+1:
			problem = fmt.Sprintf("missing: the chain goes from %d to %d", c.seq, t.ChainSeq)
			id, seq = deref(t.PrevID), c.seq+1
		case !bytes.Equal(recorded, c.hash):
			problem = "its predecessor's hash does not match the chain"
		case !bytes.Equal(hash, t.Hash) && t.HashVersion >= hashV2:
			problem = "its contents, its postings or the accounts they post to do not match its hash: altered"
		case !bytes.Equal(hash, t.Hash):
			problem = "its contents or postings do not match its hash: altered"
		case !balanced(ps):
			problem = "its postings do not sum to zero"
		}
		if problem != "" {
			b := BadTransaction{ID: id, ChainKey: t.ChainKey, ChainSeq: seq, Problem: problem}
			if !matches && t.HashVersion >= hashV2 {
				for _, p := range ps {
					b.accounts = append(b.accounts, p.acct)
				}
			}
			c.bad(b)
		}
	}
	c.hash = hash
	c.seq = t.ChainSeq
	c.last = t.ID
	if c.tree != nil {
		c.tree.add(txLeaf(t.ID, hash))
	}
	if w.want[t.ChainKey][t.ChainSeq] {
		if w.v.at[t.ChainKey] == nil {
			w.v.at[t.ChainKey] = map[int64][]byte{}
			w.v.roots[t.ChainKey] = map[int64][]byte{}
		}
		w.v.at[t.ChainKey][t.ChainSeq] = c.hash
		w.v.roots[t.ChainKey][t.ChainSeq] = c.tree.root()
	}
}

// flush walks on through the transactions still waiting for a predecessor
// that never came: the first is reported missing.
func (c *chainState) flush(w *walk) {
	for _, seq := range slices.Sorted(maps.Keys(c.early)) {
		c.next(c.early[seq].t, c.early[seq].ps, w)
	}
	c.early = nil
}

// end compares the walk's end with the chain's recorded head.
func (c *chainState) end(heads []models.LedgerChain) {
	if c.broken {
		return
	}
	for _, h := range heads {
		if h.ChainKey != c.key {
			continue
		}
		if h.Seq > c.seq {
			c.bad(BadTransaction{ID: deref(h.HeadTransactionID), ChainKey: c.key, ChainSeq: c.seq + 1,
				Problem: fmt.Sprintf("missing: the chain's head is at %d, its transactions end at %d", h.Seq, c.seq)})
		}
		return
	}
}

func (c *chainState) bad(b BadTransaction) {
	c.broken = true
	if c.problem == nil {
		c.problem = &b
	}
}

func (v *Verification) bad(b BadTransaction) {
	if v.FirstBad == nil {
		v.FirstBad = &b
	}
}

func balanced(ps []posted) bool {
	sums := map[string]int64{}
	for _, p := range ps {
		sums[p.Currency] += p.Amount
	}
	for _, s := range sums {
		if s != 0 {
			return false
		}
	}
	return len(ps) >= 2
}

func deref(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}
