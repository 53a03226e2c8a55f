package ledger

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// Chains written before the account identity was hashed keep verifying
// only if version 1's encoding stays byte for byte what it was: this hash
// was computed by the code of commit ee4e59d.
func TestVersion1EncodingIsUnchanged(t *testing.T) {
	g := uuid.MustParse("01900000-0000-7000-8000-000000000001")
	prev := uuid.MustParse("01900000-0000-7000-8000-000000000002")
	tr := models.LedgerTransaction{ID: uuid.MustParse("01900000-0000-7000-8000-000000000003"), ChainKey: g.String(), ChainSeq: 7,
		Reference: "order:1:line:1:sale", Kind: "sale", GroupID: &g, Memo: `{"order_id":"x"}`,
		OccurredAt: time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC), PrevID: &prev, PrevHash: make([]byte, 32), HashVersion: 1}
	ps := []models.LedgerPosting{
		{TransactionID: tr.ID, Position: 1, AccountID: uuid.MustParse("01900000-0000-7000-8000-00000000000a"), Amount: -1000, Currency: "PKR"},
		{TransactionID: tr.ID, Position: 2, AccountID: uuid.MustParse("01900000-0000-7000-8000-00000000000b"), Amount: 1000, Currency: "PKR"},
	}
	// Version 1 does not read the accounts at all.
	got := hex.EncodeToString(chainHash(tr, []posted{{LedgerPosting: ps[0]}, {LedgerPosting: ps[1]}}))
	if got != "a51c2ba36f8f27730dd31784f66cebd3dc16bb1eecd283e48382f72dc73ff6a4" {
		t.Fatalf("version 1 hash changed: %s", got)
	}
}

// payable returns the id of an owner's payable account.
func accountID(t *testing.T, db *gorm.DB, o Owner, typ string) uuid.UUID {
	t.Helper()
	var a models.LedgerAccount
	if err := db.Where("owner_kind = ? AND owner_id = ? AND type = ?", o.Kind, o.ID, typ).First(&a).Error; err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// Changing who an account belongs to, or what it is, directly in SQL is
// found by verify, which names the account and the first transaction that
// posted to it; a checkpoint taken before no longer verifies; undone, the
// ledger verifies again.
func TestVerifyFindsChangedAccountIdentity(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		g := models.NewID()
		a, b := Artisan(models.NewID(), g), Artisan(models.NewID(), g)
		// Every booking touches one of the two payables, so no booking
		// that still verifies vouches for the accounts they share.
		first, _, err := l.Post(ctx, sale("a1", a, 1000))
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range []Owner{b, a, b} {
			if _, _, err := l.Post(ctx, sale(fmt.Sprintf("x%d", i), o, 10)); err != nil {
				t.Fatal(err)
			}
		}
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pa, pb := accountID(t, db, a, TypePayable), accountID(t, db, b, TypePayable)
		spare := models.NewID()
		for _, tc := range []struct {
			name         string
			change, undo []string
		}{
			{"owner swapped between two artisans' payables", []string{
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", spare, pa),
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", a.ID, pb),
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", b.ID, pa),
			}, []string{
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", spare, pa),
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", b.ID, pb),
				fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s' WHERE id = '%s'", a.ID, pa),
			}},
			{"type changed", []string{fmt.Sprintf("UPDATE ledger_accounts SET type = 'undistributed_margin' WHERE id = '%s'", pa)},
				[]string{fmt.Sprintf("UPDATE ledger_accounts SET type = 'payable' WHERE id = '%s'", pa)}},
			{"group changed", []string{fmt.Sprintf("UPDATE ledger_accounts SET group_id = '%s' WHERE id = '%s'", spare, pa)},
				[]string{fmt.Sprintf("UPDATE ledger_accounts SET group_id = '%s' WHERE id = '%s'", g, pa)}},
			{"currency changed", []string{fmt.Sprintf("UPDATE ledger_accounts SET currency = 'USD' WHERE id = '%s'", pa)},
				[]string{fmt.Sprintf("UPDATE ledger_accounts SET currency = 'PKR' WHERE id = '%s'", pa)}},
			{"owner kind changed", []string{fmt.Sprintf("UPDATE ledger_accounts SET owner_kind = 'group' WHERE id = '%s'", pa)},
				[]string{fmt.Sprintf("UPDATE ledger_accounts SET owner_kind = 'artisan' WHERE id = '%s'", pa)}},
			{"allowed to go negative", []string{fmt.Sprintf("UPDATE ledger_accounts SET may_go_negative = true WHERE id = '%s'", pa)},
				[]string{fmt.Sprintf("UPDATE ledger_accounts SET may_go_negative = false WHERE id = '%s'", pa)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tamper(t, db, tc.change...)
				v, err := l.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if v.OK || v.FirstBad == nil || v.FirstBad.ID != first.ID {
					t.Errorf("verify: ok %v, first bad %+v, want %s", v.OK, v.FirstBad, first.ID)
				}
				if v.FirstBadAccount == nil || v.FirstBadAccount.ID != pa || v.FirstBadAccount.Problem == "" {
					t.Errorf("verify names account %+v, want %s", v.FirstBadAccount, pa)
				}
				if !v.TrialBalanceOK {
					t.Errorf("the trial balance still holds: no posting or balance changed")
				}
				v, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{cp})
				if err != nil || v.OK || v.FirstBadAccount == nil || v.FirstBadAccount.ID != pa {
					t.Errorf("verify with a checkpoint: ok %v, %+v, %+v %v", v.OK, v.FirstBadAccount, res, err)
				}
				if ok, err := l.VerifyGroup(ctx, g); err != nil || ok {
					t.Errorf("the group's own verification: %v %v", ok, err)
				}
				tamper(t, db, tc.undo...)
				if v, err := l.Verify(ctx); err != nil || !v.OK {
					t.Fatalf("undone: %+v %+v %v", v.FirstBad, v.FirstBadAccount, err)
				}
			})
		}
	})
}

// Whoever changes an account and its recorded identity hash alike (the
// formula is public) still breaks every transaction hashed with it: the
// first is named, and the account from the bookings that still verify.
func TestVerifyFindsChangedAccountWithRecomputedIdentityHash(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		g := models.NewID()
		a, b := Artisan(models.NewID(), g), Artisan(models.NewID(), g)
		first, _, err := l.Post(ctx, sale("a1", a, 1000))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := l.Post(ctx, sale("b1", b, 10)); err != nil {
			t.Fatal(err)
		}
		pa := accountID(t, db, a, TypePayable)
		var acct models.LedgerAccount
		if err := db.First(&acct, "id = ?", pa).Error; err != nil {
			t.Fatal(err)
		}
		acct.OwnerID = b.ID
		acct.Type = TypeUndistributed
		tamper(t, db, fmt.Sprintf("UPDATE ledger_accounts SET owner_id = '%s', type = '%s', identity_hash = %s WHERE id = '%s'",
			acct.OwnerID, acct.Type, hexLit(db, identityHash(acct)), pa))
		v, err := l.Verify(ctx)
		if err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != first.ID || v.FirstBadAccount == nil || v.FirstBadAccount.ID != pa {
			t.Fatalf("verify: %+v %+v %v", v.FirstBad, v.FirstBadAccount, err)
		}
	})
}

// A ledger written before the account identity was hashed (version 1
// transactions) verifies as before, with new bookings appended after the
// old ones, also against a checkpoint taken before the change; the new
// bookings cover the identity of the old accounts from then on.
func TestChainsWrittenBeforeKeepVerifying(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		g := models.NewID()
		a, b := Artisan(models.NewID(), g), Artisan(models.NewID(), g)
		l.hashVersion = 1 // as the code before migration 0012 wrote them
		for i := range 3 {
			for _, o := range []Owner{a, b} {
				if _, _, err := l.Post(ctx, sale(fmt.Sprintf("old:%s:%d", o.ID, i), o, 100)); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Accounts opened before migration 0012 recorded no identity hash.
		if err := db.Exec("UPDATE ledger_accounts SET identity_hash = NULL").Error; err != nil {
			t.Fatal(err)
		}
		var versions []int
		if err := db.Raw("SELECT DISTINCT hash_version FROM ledger_transactions").Scan(&versions).Error; err != nil || len(versions) != 1 || versions[0] != 1 {
			t.Fatalf("old rows: versions %v %v", versions, err)
		}
		old, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := l.Verify(ctx); err != nil || !v.OK {
			t.Fatalf("old chain: %+v %v", v.FirstBad, err)
		}

		l.hashVersion = currentHashVersion
		var firstNew models.LedgerTransaction
		for i := range 2 {
			for _, o := range []Owner{b, a} {
				tr, _, err := l.Post(ctx, sale(fmt.Sprintf("new:%s:%d", o.ID, i), o, 100))
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && o == a {
					firstNew = tr
				}
			}
		}
		if n := count(t, db, "SELECT count(*) FROM ledger_transactions WHERE hash_version = 2"); n != 4 {
			t.Fatalf("%d new rows of version 2, want 4", n)
		}
		v, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{old})
		if err != nil || !v.OK || v.TransactionsChecked != 10 || !res[0].OK {
			t.Fatalf("old and new: %+v %+v %v", v, res, err)
		}
		if ok, err := l.VerifyGroup(ctx, g); err != nil || !ok {
			t.Fatalf("the group's own verification: %v %v", ok, err)
		}

		// The old accounts recorded no identity hash, but the new bookings
		// hashed their identity: a changed owner breaks the first of them.
		pa := accountID(t, db, a, TypePayable)
		tamper(t, db, fmt.Sprintf("UPDATE ledger_accounts SET type = 'undistributed_margin' WHERE id = '%s'", pa))
		v, err = l.Verify(ctx)
		if err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != firstNew.ID || v.FirstBadAccount == nil || v.FirstBadAccount.ID != pa {
			t.Fatalf("changed old account: %+v %+v %v", v.FirstBad, v.FirstBadAccount, err)
		}
		tamper(t, db, fmt.Sprintf("UPDATE ledger_accounts SET type = 'payable' WHERE id = '%s'", pa))

		// Marking a new transaction as version 1, to be hashed without the
		// accounts, does not match its hash.
		tamper(t, db, fmt.Sprintf("UPDATE ledger_transactions SET hash_version = 1 WHERE id = '%s'", firstNew.ID))
		if v, err := l.Verify(ctx); err != nil || v.OK || v.FirstBad == nil || v.FirstBad.ID != firstNew.ID {
			t.Fatalf("downgraded version: %+v %v", v.FirstBad, err)
		}
	})
}

func count(t *testing.T, db *gorm.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(q).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
