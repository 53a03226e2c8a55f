package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"

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
}

// Verification is what Verify found.
type Verification struct {
	OK                  bool
	TransactionsChecked int64
	HeadHash            []byte // of the chain heads as recomputed (headsHash)
	TrialBalanceOK      bool   // postings sum to zero per currency, and every balance is the sum of its postings
	FirstBad            *BadTransaction
	Heads               []Head
	at                  map[string]map[int64][]byte // recomputed hashes at the positions asked for
}

// verifyChunk is how many transactions Verify reads per query.
const verifyChunk = 20000

// Verify recomputes every chain from its start and the trial balance, in
// one consistent snapshot of the ledger. It needs no trust in the stored
// hashes: each transaction's hash is recomputed from its contents and its
// predecessor's recomputed hash.
func (s *Service) Verify(ctx context.Context) (Verification, error) {
	return s.verify(ctx, nil)
}

func (s *Service) verify(ctx context.Context, want map[string]map[int64]bool) (Verification, error) {
	v := Verification{TrialBalanceOK: true, at: map[string]map[int64][]byte{}}
	opts := &sql.TxOptions{ReadOnly: true}
	if models.DialectOf(s.db) == models.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var heads []models.LedgerChain
		if err := tx.Order("chain_key").Find(&heads).Error; err != nil {
			return err
		}
		sums := map[uuid.UUID]int64{}
		totals := map[string]int64{}
		var c chainState
		finish := func() {
			if c.key == "" {
				return
			}
			c.end(heads, &v)
			v.Heads = append(v.Heads, Head{ChainKey: c.key, Seq: c.seq, Hash: c.hash})
		}
		after := struct {
			key string
			seq int64
		}{"", 0}
		for {
			var ts []models.LedgerTransaction
			if err := tx.Where("(chain_key, chain_seq) > (?, ?)", after.key, after.seq).
				Order("chain_key, chain_seq").Limit(verifyChunk).Find(&ts).Error; err != nil {
				return err
			}
			if len(ts) == 0 {
				break
			}
			last := ts[len(ts)-1]
			var ps []models.LedgerPosting
			if err := tx.Table("ledger_postings p").Select("p.*").
				Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
				Where("(t.chain_key, t.chain_seq) > (?, ?) AND (t.chain_key, t.chain_seq) <= (?, ?)",
					after.key, after.seq, last.ChainKey, last.ChainSeq).
				Order("t.chain_key, t.chain_seq, p.position").Scan(&ps).Error; err != nil {
				return err
			}
			i := 0
			for _, t := range ts {
				j := i
				for j < len(ps) && ps[j].TransactionID == t.ID {
					j++
				}
				own := ps[i:j]
				i = j
				if t.ChainKey != c.key {
					finish()
					c = chainState{key: t.ChainKey, hash: make([]byte, 32)}
				}
				c.next(t, own, &v)
				if want[t.ChainKey][t.ChainSeq] {
					if v.at[t.ChainKey] == nil {
						v.at[t.ChainKey] = map[int64][]byte{}
					}
					v.at[t.ChainKey][t.ChainSeq] = c.hash
				}
				for _, p := range own {
					sums[p.AccountID] += p.Amount
					totals[p.Currency] += p.Amount
				}
				v.TransactionsChecked++
			}
			after.key, after.seq = last.ChainKey, last.ChainSeq
		}
		finish()
		// A chain whose head names transactions that are all gone.
		for _, h := range heads {
			if !slices.ContainsFunc(v.Heads, func(x Head) bool { return x.ChainKey == h.ChainKey }) && h.Seq > 0 {
				v.bad(BadTransaction{ID: deref(h.HeadTransactionID), ChainKey: h.ChainKey, ChainSeq: h.Seq,
					Problem: "missing: the chain's head names it, and the chain has no transactions"})
			}
		}
		for _, total := range totals {
			if total != 0 {
				v.TrialBalanceOK = false
			}
		}
		var accounts []models.LedgerAccount
		if err := tx.Select("id, balance").Find(&accounts).Error; err != nil {
			return err
		}
		for _, a := range accounts {
			if a.Balance != sums[a.ID] {
				v.TrialBalanceOK = false
			}
		}
		return nil
	}, opts)
	if err != nil {
		return v, err
	}
	v.HeadHash = headsHash(v.Heads)
	v.OK = v.FirstBad == nil && v.TrialBalanceOK
	return v, nil
}

// chainState is the walk along one chain.
type chainState struct {
	key    string
	seq    int64
	hash   []byte
	broken bool // after the first problem the rest of the chain is not judged again
}

func (c *chainState) next(t models.LedgerTransaction, ps []models.LedgerPosting, v *Verification) {
	if c.broken {
		return
	}
	problem := ""
	id, seq := t.ID, t.ChainSeq
	switch {
	case t.ChainSeq != c.seq+1:
		problem = fmt.Sprintf("missing: the chain goes from %d to %d", c.seq, t.ChainSeq)
		id, seq = deref(t.PrevID), c.seq+1
	case !bytes.Equal(t.PrevHash, c.hash):
		problem = "its predecessor's hash does not match the chain"
	case !bytes.Equal(chainHash(t, ps), t.Hash):
		problem = "its contents or postings do not match its hash: altered"
	case !balanced(ps):
		problem = "its postings do not sum to zero"
	}
	if problem != "" {
		c.broken = true
		v.bad(BadTransaction{ID: id, ChainKey: t.ChainKey, ChainSeq: seq, Problem: problem})
	}
	// Go on from the recomputed hash, so a later checkpoint position reflects the damage.
	t.PrevHash = c.hash
	c.hash = chainHash(t, ps)
	c.seq = t.ChainSeq
}

// end compares the walk's end with the chain's recorded head.
func (c *chainState) end(heads []models.LedgerChain, v *Verification) {
	if c.broken {
		return
	}
	for _, h := range heads {
		if h.ChainKey != c.key {
			continue
		}
		if h.Seq > c.seq {
			v.bad(BadTransaction{ID: deref(h.HeadTransactionID), ChainKey: c.key, ChainSeq: c.seq + 1,
				Problem: fmt.Sprintf("missing: the chain's head is at %d, its transactions end at %d", h.Seq, c.seq)})
		}
		return
	}
}

func (v *Verification) bad(b BadTransaction) {
	if v.FirstBad == nil {
		v.FirstBad = &b
	}
}

func balanced(ps []models.LedgerPosting) bool {
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
