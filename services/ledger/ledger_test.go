package ledger

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

func newLedger(t testing.TB, db *gorm.DB) *Service {
	t.Helper()
	s, err := New(db, Options{Currency: "PKR", SigningKey: ed25519.NewKeyFromSeed(make([]byte, 32)), CursorKey: []byte("test cursor key")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pkr(o Owner, typ string, amount int64) Posting {
	return Posting{Owner: o, Type: typ, Amount: amount, Currency: "PKR"}
}

// sale books amount received into an artisan's payable, on a chain of its own.
func sale(ref string, artisan Owner, amount int64) Entry {
	g := artisan.GroupID
	return Entry{Reference: ref, Kind: KindTransfer, GroupID: &g,
		Postings: []Posting{pkr(Platform, TypeCardReceipts, -amount), pkr(artisan, TypePayable, amount)}}
}

func balance(t *testing.T, db *gorm.DB, o Owner, typ string) int64 {
	t.Helper()
	var a models.LedgerAccount
	if err := db.Where("owner_kind = ? AND owner_id = ? AND type = ?", o.Kind, o.ID, typ).First(&a).Error; err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

func TestPostBalancesOnceAndRefusesWhatCannotBeBooked(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		ctx := context.Background()
		a := Artisan(models.NewID(), models.NewID())
		first, dup, err := l.Post(ctx, sale("order:1:sale", a, 5000))
		if err != nil || dup {
			t.Fatal(err, dup)
		}
		again, dup, err := l.Post(ctx, sale("order:1:sale", a, 5000))
		if err != nil || !dup || again.ID != first.ID || balance(t, db, a, TypePayable) != 5000 {
			t.Fatalf("second booking: %v %v, balance %d", err, dup, balance(t, db, a, TypePayable))
		}
		if _, _, err := l.Post(ctx, sale("order:1:sale", a, 6000)); !errors.Is(err, ErrReferenceReused) {
			t.Errorf("same reference, other postings: %v", err)
		}
		elsewhere := sale("order:1:sale", a, 5000)
		elsewhere.GroupID = nil // the platform's chain
		if _, _, err := l.Post(ctx, elsewhere); !errors.Is(err, ErrReferenceReused) {
			t.Errorf("same reference and postings, another chain: %v", err)
		}
		for _, ps := range [][]Posting{
			{pkr(Platform, TypeCardReceipts, -100), pkr(a, TypePayable, 99)},
			{pkr(a, TypePayable, 100)},
			{pkr(Platform, TypeCardReceipts, 0), pkr(a, TypePayable, 0)},
			{pkr(Platform, TypeCardReceipts, -100), {Owner: a, Type: TypePayable, Amount: 100, Currency: "USD"}},
		} {
			if _, _, err := l.Post(ctx, Entry{Reference: "bad", Kind: KindTransfer, Postings: ps}); !errors.Is(err, ErrUnbalanced) {
				t.Errorf("%v: %v", ps, err)
			}
		}
		var ife *InsufficientFundsError
		_, _, err = l.Post(ctx, Entry{Reference: "payout:too-much", Kind: KindPayout, GroupID: &a.GroupID,
			Postings: []Posting{pkr(a, TypePayable, -5001), pkr(Platform, TypePaidOut, 5001)}})
		if !errors.As(err, &ife) || ife.Balance != 5000 {
			t.Errorf("overdraft: %v", err)
		}
		var n int64
		db.Model(&models.LedgerTransaction{}).Count(&n)
		if n != 1 || balance(t, db, a, TypePayable) != 5000 {
			t.Errorf("refused bookings left %d transactions, balance %d", n, balance(t, db, a, TypePayable))
		}
		v, err := l.Verify(ctx)
		if err != nil || !v.OK || v.TransactionsChecked != 1 {
			t.Fatalf("verify %+v %v", v, err)
		}
	})
}

// Committed rows cannot be changed through SQL while the protective
// triggers are in place.
func TestLedgerRowsAreImmutable(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		l := newLedger(t, db)
		a := Artisan(models.NewID(), models.NewID())
		tr, _, err := l.Post(context.Background(), sale("s1", a, 700))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"UPDATE ledger_postings SET amount = amount + 1 WHERE transaction_id = ?",
			"DELETE FROM ledger_postings WHERE transaction_id = ?",
			"UPDATE ledger_transactions SET memo = 'x' WHERE id = ?",
			"DELETE FROM ledger_transactions WHERE id = ?",
		} {
			if err := db.Exec(q, tr.ID).Error; err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	})
}

// tamper runs statements with the protective triggers out of the way, as
// someone holding the database could.
func tamper(t *testing.T, db *gorm.DB, stmts ...string) {
	t.Helper()
	pg := models.DialectOf(db) == models.Postgres
	err := db.Transaction(func(tx *gorm.DB) error {
		if pg {
			if err := tx.Exec("SET LOCAL session_replication_role = replica").Error; err != nil {
				return err
			}
		} else {
			for _, trg := range []string{"ledger_transactions_no_update", "ledger_transactions_no_delete",
				"ledger_postings_no_update", "ledger_postings_no_delete"} {
				if err := tx.Exec("DROP TRIGGER IF EXISTS " + trg).Error; err != nil {
					return err
				}
			}
		}
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		a := Artisan(models.NewID(), models.NewID())
		b := Artisan(models.NewID(), models.NewID())
		var ids []uuid.UUID
		for i := range 5 {
			tr, _, err := l.Post(ctx, sale(fmt.Sprintf("a%d", i), a, int64(100+i)))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tr.ID)
			if _, _, err := l.Post(ctx, sale(fmt.Sprintf("b%d", i), b, 50)); err != nil {
				t.Fatal(err)
			}
		}
		before, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := l.Verify(ctx); err != nil || !v.OK || v.TransactionsChecked != 10 {
			t.Fatalf("clean ledger: %+v %v", v, err)
		}
		if _, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{before}); err != nil || !res[0].OK {
			t.Fatalf("clean checkpoint: %+v %v", res, err)
		}
		forged := before
		forged.Sequence++
		if _, res, _ := l.VerifyCheckpoints(ctx, []Checkpoint{forged}); res[0].OK {
			t.Errorf("a checkpoint with an altered sequence verified")
		}

		// 1. One posting's amount changed: verify names that transaction.
		tamper(t, db, fmt.Sprintf("UPDATE ledger_postings SET amount = amount + 1 WHERE transaction_id = '%s' AND amount > 0", ids[2]))
		v, err := l.Verify(ctx)
		if err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != ids[2] || v.TrialBalanceOK {
			t.Fatalf("altered posting: %+v %v", v.FirstBad, err)
		}
		tamper(t, db, fmt.Sprintf("UPDATE ledger_postings SET amount = amount - 1 WHERE transaction_id = '%s' AND amount > 0", ids[2]))
		if v, _ := l.Verify(ctx); !v.OK {
			t.Fatalf("restored: %+v", v.FirstBad)
		}

		// 2. A transaction's sequence number changed (the last, so the chain has a gap
		// but nothing is missing): verify names that one, not its intact predecessor.
		tamper(t, db, fmt.Sprintf("UPDATE ledger_transactions SET chain_seq = 6 WHERE id = '%s'", ids[4]))
		v, err = l.Verify(ctx)
		if err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != ids[4] {
			t.Fatalf("renumbered transaction: %+v %v", v.FirstBad, err)
		}
		tamper(t, db, fmt.Sprintf("UPDATE ledger_transactions SET chain_seq = 5 WHERE id = '%s'", ids[4]))

		// 3. A transaction deleted: verify names the missing one.
		tamper(t, db,
			fmt.Sprintf("DELETE FROM ledger_postings WHERE transaction_id = '%s'", ids[1]),
			fmt.Sprintf("DELETE FROM ledger_transactions WHERE id = '%s'", ids[1]))
		v, err = l.Verify(ctx)
		if err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != ids[1] {
			t.Fatalf("deleted transaction: %+v %v", v.FirstBad, err)
		}

		// 4. The whole chain rewritten consistently (hashes recomputed by whoever holds the
		// database) verifies on its own, but not against a checkpoint taken before.
		if err := rewriteChain(db, a.GroupID.String()); err != nil {
			t.Fatal(err)
		}
		if v, _ := l.Verify(ctx); v.FirstBad != nil {
			t.Fatalf("a consistently rewritten chain should pass on its own: %+v", v.FirstBad)
		}
		_, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{before})
		if err != nil || res[0].OK {
			t.Fatalf("a checkpoint taken before a rewrite still verifies: %+v %v", res, err)
		}
	})
}

// rewriteChain renumbers and rehashes a chain from its start, as an
// attacker who deleted a transaction and wanted to hide it would.
func rewriteChain(db *gorm.DB, chainKey string) error {
	var ts []models.LedgerTransaction
	if err := db.Where("chain_key = ?", chainKey).Order("chain_seq").Find(&ts).Error; err != nil {
		return err
	}
	prev := make([]byte, 32)
	var prevID *uuid.UUID
	var stmts []string
	for i, t := range ts {
		var ps []models.LedgerPosting
		if err := db.Where("transaction_id = ?", t.ID).Order("position").Find(&ps).Error; err != nil {
			return err
		}
		chained := make([]posted, len(ps))
		for i, p := range ps {
			var a models.LedgerAccount
			if err := db.First(&a, "id = ?", p.AccountID).Error; err != nil {
				return err
			}
			chained[i] = posted{LedgerPosting: p, acct: newChainAccount(a)}
		}
		t.ChainSeq, t.PrevHash, t.PrevID = int64(i+1), prev, prevID
		t.Hash = chainHash(t, chained)
		prevRef := "NULL"
		if prevID != nil {
			prevRef = "'" + prevID.String() + "'"
		}
		stmts = append(stmts, fmt.Sprintf("UPDATE ledger_transactions SET chain_seq = %d, prev_hash = %s, hash = %s, prev_id = %s WHERE id = '%s'",
			t.ChainSeq, hexLit(db, t.PrevHash), hexLit(db, t.Hash), prevRef, t.ID))
		prev = t.Hash
		id := t.ID
		prevID = &id
	}
	stmts = append(stmts, fmt.Sprintf("UPDATE ledger_chains SET seq = %d, head_hash = %s, head_transaction_id = '%s' WHERE chain_key = '%s'",
		len(ts), hexLit(db, prev), prevID, chainKey))
	return db.Transaction(func(tx *gorm.DB) error {
		if models.DialectOf(db) == models.Postgres {
			if err := tx.Exec("SET LOCAL session_replication_role = replica").Error; err != nil {
				return err
			}
		}
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

func hexLit(db *gorm.DB, b []byte) string {
	if models.DialectOf(db) == models.Postgres {
		return fmt.Sprintf("'\\x%x'", b)
	}
	return fmt.Sprintf("X'%x'", b)
}

// Twenty payouts at once from one balance: exactly the affordable ones
// succeed and the balance never goes below zero.
func TestConcurrentOverdraftsRefused(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		a := Artisan(models.NewID(), models.NewID())
		if _, _, err := l.Post(ctx, sale("in", a, 10000)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := l.Post(ctx, Entry{Reference: fmt.Sprintf("payout:%d", i), Kind: KindPayout, GroupID: &a.GroupID,
					Postings: []Posting{pkr(a, TypePayable, -3000), pkr(Platform, TypePaidOut, 3000)}})
				mu.Lock()
				defer mu.Unlock()
				var ife *InsufficientFundsError
				switch {
				case err == nil:
					ok++
				case errors.As(err, &ife):
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 3 || refused != 17 || balance(t, db, a, TypePayable) != 1000 {
			t.Fatalf("%d paid, %d refused, balance %d", ok, refused, balance(t, db, a, TypePayable))
		}
		if v, err := l.Verify(ctx); err != nil || !v.OK {
			t.Fatalf("%+v %v", v, err)
		}
	})
}

// A group's own verification finds tampering in its chain and its balances,
// and is not disturbed by another group's.
func TestVerifyGroup(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		a, b := Artisan(models.NewID(), models.NewID()), Artisan(models.NewID(), models.NewID())
		var last models.LedgerTransaction
		for i := range 3 {
			if _, _, err := l.Post(ctx, sale(fmt.Sprintf("a%d", i), a, 100)); err != nil {
				t.Fatal(err)
			}
			tr, _, err := l.Post(ctx, sale(fmt.Sprintf("b%d", i), b, 100))
			if err != nil {
				t.Fatal(err)
			}
			last = tr
		}
		for _, g := range []uuid.UUID{a.GroupID, b.GroupID, models.NewID()} {
			if ok, err := l.VerifyGroup(ctx, g); err != nil || !ok {
				t.Fatalf("clean group %s: %v %v", g, ok, err)
			}
		}
		tamper(t, db, fmt.Sprintf("UPDATE ledger_postings SET amount = amount + 1 WHERE transaction_id = '%s' AND amount > 0", last.ID))
		if ok, _ := l.VerifyGroup(ctx, b.GroupID); ok {
			t.Error("an altered posting verified")
		}
		if ok, _ := l.VerifyGroup(ctx, a.GroupID); !ok {
			t.Error("another group's tampering failed this group")
		}
		tamper(t, db, fmt.Sprintf("UPDATE ledger_postings SET amount = amount - 1 WHERE transaction_id = '%s' AND amount > 0", last.ID),
			fmt.Sprintf("UPDATE ledger_accounts SET balance = balance + 5 WHERE owner_id = '%s'", a.ID))
		if ok, _ := l.VerifyGroup(ctx, a.GroupID); ok {
			t.Error("a balance that is not the sum of its postings verified")
		}
	})
}
