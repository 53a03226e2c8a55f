package ledger

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
)

// bookSales books n sales of one artisan, on her group's chain, and
// returns them in sequence order.
func bookSales(t *testing.T, l *Service, a Owner, prefix string, n int) []models.LedgerTransaction {
	t.Helper()
	out := make([]models.LedgerTransaction, n)
	for i := range out {
		tr, _, err := l.Post(context.Background(), sale(fmt.Sprintf("%s:%d", prefix, i), a, int64(100+i)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = tr
	}
	return out
}

// tampered lists a proof's alterations that must each fail verification:
// every field, every hash of the path, and the proof of another transaction
// presented as this one's.
func tampered(p, other Proof) map[string]Proof {
	flip := func(b []byte) []byte { c := slices.Clone(b); c[0] ^= 1; return c }
	out := map[string]Proof{}
	edit := func(name string, f func(q *Proof)) {
		q := p
		q.Path = slices.Clone(p.Path)
		f(&q)
		out[name] = q
	}
	edit("transaction id", func(q *Proof) { q.TransactionID = other.TransactionID })
	edit("transaction hash", func(q *Proof) { q.TransactionHash = flip(q.TransactionHash) })
	edit("another transaction's hash", func(q *Proof) { q.TransactionHash = other.TransactionHash })
	edit("chain", func(q *Proof) { q.Chain += "x" })
	edit("sequence up", func(q *Proof) { q.Sequence++ })
	edit("sequence down", func(q *Proof) { q.Sequence-- })
	edit("tree size", func(q *Proof) { q.TreeSize++ })
	edit("chain index", func(q *Proof) { q.ChainIndex = (q.ChainIndex + 1) % q.Checkpoint.Chains })
	edit("checkpoint sequence", func(q *Proof) { q.Checkpoint.Sequence++ })
	edit("checkpoint head hash", func(q *Proof) { q.Checkpoint.HeadHash = flip(q.Checkpoint.HeadHash) })
	edit("checkpoint root", func(q *Proof) { q.Checkpoint.RootHash = flip(q.Checkpoint.RootHash) })
	edit("checkpoint chains", func(q *Proof) { q.Checkpoint.Chains++ })
	edit("checkpoint time", func(q *Proof) { q.Checkpoint.CreatedAt = q.Checkpoint.CreatedAt.Add(1) })
	edit("signature", func(q *Proof) { q.Checkpoint.Signature = flip(q.Checkpoint.Signature) })
	edit("version 1", func(q *Proof) { q.Checkpoint.Version = CheckpointV1 })
	edit("path shortened", func(q *Proof) { q.Path = q.Path[:len(q.Path)-1] })
	edit("path lengthened", func(q *Proof) { q.Path = append(q.Path, q.Path[0]) })
	for i := range p.Path {
		edit(fmt.Sprintf("path[%d]", i), func(q *Proof) { q.Path[i] = flip(q.Path[i]) })
	}
	edit("another transaction's path", func(q *Proof) {
		q.Path, q.Sequence, q.TreeSize, q.ChainIndex = other.Path, other.Sequence, other.TreeSize, other.ChainIndex
	})
	return out
}

// Proofs for the first, a middle and the last transaction of chains long
// enough to span several blocks verify with the public key alone; every
// alteration fails; the block hashes computed on the way are stored once.
func TestInclusionProofsVerifyWithThePublicKey(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		g := models.NewID()
		a, b := Artisan(models.NewID(), g), Artisan(models.NewID(), models.NewID())
		long := bookSales(t, l, a, "a", 517) // two complete subtrees of 256, and more
		short := bookSales(t, l, b, "b", 3)
		platform, _, err := l.Post(ctx, Entry{Reference: "fees", Kind: KindTransfer,
			Postings: []Posting{pkr(Platform, TypeCardReceipts, -10), pkr(Platform, TypePlatformFees, 10)}})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "SELECT count(*) FROM ledger_checkpoints"); n != 0 {
			t.Fatalf("%d checkpoints before any proof", n)
		}
		cases := []models.LedgerTransaction{long[0], long[256], long[len(long)/2], long[len(long)-1], short[0], short[2], platform}
		proofs := make([]Proof, len(cases))
		for i, tr := range cases {
			p, err := l.InclusionProof(ctx, tr.ID)
			if err != nil {
				t.Fatalf("proof of %s:%d: %v", tr.ChainKey, tr.ChainSeq, err)
			}
			if err := VerifyInclusion(l.PublicKey(), p); err != nil {
				t.Fatalf("proof of %s:%d: %v", tr.ChainKey, tr.ChainSeq, err)
			}
			if p.TransactionID != tr.ID || string(p.TransactionHash) != string(tr.Hash) || p.Chain != tr.ChainKey ||
				p.Sequence != tr.ChainSeq || p.Checkpoint.Chains != 3 {
				t.Fatalf("proof of %s:%d: %+v", tr.ChainKey, tr.ChainSeq, p)
			}
			if p.TreeSize != map[string]int64{a.GroupID.String(): int64(len(long)), b.GroupID.String(): 3, PlatformChain: 1}[tr.ChainKey] {
				t.Errorf("tree size %d of chain %s", p.TreeSize, tr.ChainKey)
			}
			proofs[i] = p
		}
		// One checkpoint (made for the first proof) serves them all, and
		// each complete subtree of 16 and of 256 was computed once.
		if n := count(t, db, "SELECT count(*) FROM ledger_checkpoints"); n != 1 {
			t.Errorf("%d checkpoints, want 1", n)
		}
		if n := count(t, db, "SELECT count(*) FROM ledger_tree_nodes"); n != 517/16+517/256 {
			t.Errorf("%d stored subtree hashes, want %d", n, 517/16+517/256)
		}
		cp, err := l.Checkpoint(ctx)
		if err != nil || string(cp.RootHash) != string(proofs[0].Checkpoint.RootHash) || !cp.CreatedAt.Equal(proofs[0].Checkpoint.CreatedAt) {
			t.Fatalf("the proofs' checkpoint is the auditors': %+v %v", cp, err)
		}
		if _, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{cp, proofs[3].Checkpoint}); err != nil || !res[0].OK || !res[1].OK {
			t.Fatalf("the checkpoint verifies: %+v %v", res, err)
		}

		for i, p := range proofs {
			other := proofs[(i+1)%len(proofs)]
			if i == 0 {
				other = proofs[1] // on the same chain
			}
			for what, q := range tampered(p, other) {
				if err := VerifyInclusion(l.PublicKey(), q); !errors.Is(err, ErrBadProof) {
					t.Errorf("proof %d with %s: %v", i, what, err)
				}
			}
		}
		stranger := ed25519.NewKeyFromSeed([]byte("not the platform's signing seed!"))
		if err := VerifyInclusion(stranger.Public().(ed25519.PublicKey), proofs[0]); !errors.Is(err, ErrBadProof) {
			t.Errorf("another key: %v", err)
		}

		if _, err := l.InclusionProof(ctx, models.NewID()); !services.IsCode(err, services.CodeNotFound) {
			t.Errorf("unknown transaction: %v", err)
		}

		// A transaction booked after the checkpoint gets a new one; the old
		// transactions' proofs lead there too.
		later := bookSales(t, l, a, "later", 1)[0]
		p, err := l.InclusionProof(ctx, later.ID)
		if err != nil || VerifyInclusion(l.PublicKey(), p) != nil || p.Checkpoint.Sequence != cp.Sequence+1 || p.TreeSize != int64(len(long))+1 {
			t.Fatalf("later transaction: %+v %v", p, err)
		}
		p, err = l.InclusionProof(ctx, long[0].ID)
		if err != nil || VerifyInclusion(l.PublicKey(), p) != nil || p.Checkpoint.Sequence != cp.Sequence+1 {
			t.Fatalf("first transaction, later: %+v %v", p, err)
		}
	})
}

// A stored block hash that does not match the transactions (the cache
// damaged, or the transactions edited after it was stored) makes proof
// generation fail rather than hand out a proof that would not verify, and
// loses nothing once removed.
func TestInclusionProofRefusesDamagedTree(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		ts := bookSales(t, l, Artisan(models.NewID(), models.NewID()), "s", 258)
		if _, err := l.InclusionProof(ctx, ts[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE ledger_tree_nodes SET hash = ?", make([]byte, 32)).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := l.InclusionProof(ctx, ts[257].ID); err == nil || services.IsCode(err, services.CodeNotFound) {
			t.Fatalf("a proof over a damaged tree: %v", err)
		}
		if err := db.Exec("DELETE FROM ledger_tree_nodes").Error; err != nil {
			t.Fatal(err)
		}
		if p, err := l.InclusionProof(ctx, ts[257].ID); err != nil || VerifyInclusion(l.PublicKey(), p) != nil {
			t.Fatalf("rebuilt: %v", err)
		}
	})
}

// Checkpoints signed before inclusion proofs (version 1) keep verifying:
// kept by an auditor, and after the same heads are signed again as version
// 2, which keeps their time. Both fail once the chain is rewritten; a
// version 2 checkpoint also fails when its record of the trees is altered.
func TestCheckpointsOfVersion1KeepVerifying(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		a := Artisan(models.NewID(), models.NewID())
		ts := bookSales(t, l, a, "s", 4)
		bookSales(t, l, Artisan(models.NewID(), models.NewID()), "t", 2)

		// As the code before version 2 signed and recorded it.
		var chains []models.LedgerChain
		if err := db.Order("chain_key").Find(&chains).Error; err != nil {
			t.Fatal(err)
		}
		var heads []Head
		var seq int64
		for _, c := range chains {
			heads = append(heads, Head{ChainKey: c.ChainKey, Seq: c.Seq, Hash: c.HeadHash})
			seq += c.Seq
		}
		slices.SortFunc(heads, func(x, y Head) int { return cmp.Compare(x.ChainKey, y.ChainKey) })
		raw, _ := json.Marshal(heads)
		old := Checkpoint{Sequence: seq, HeadHash: headsHash(heads), CreatedAt: l.now()}
		if err := db.Create(&models.LedgerCheckpoint{Sequence: seq, HeadHash: old.HeadHash, Heads: string(raw), CreatedAt: old.CreatedAt}).Error; err != nil {
			t.Fatal(err)
		}
		old.Signature = ed25519.Sign(l.opt.SigningKey, old.message())
		if _, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{old}); err != nil || !res[0].OK {
			t.Fatalf("version 1: %+v %v", res, err)
		}

		cp, err := l.Checkpoint(ctx)
		if err != nil || cp.Version != CheckpointV2 || string(cp.HeadHash) != string(old.HeadHash) || !cp.CreatedAt.Equal(old.CreatedAt) ||
			cp.Chains != 2 || len(cp.RootHash) != 32 {
			t.Fatalf("the same heads as version 2: %+v %v", cp, err)
		}
		if n := count(t, db, "SELECT count(*) FROM ledger_checkpoints"); n != 1 {
			t.Fatalf("%d checkpoint records, want the one", n)
		}
		if _, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{old, cp}); err != nil || !res[0].OK || !res[1].OK {
			t.Fatalf("both versions: %+v %v", res, err)
		}
		// A version 2 checkpoint presented as version 1 (or the reverse) is not the platform's.
		asV1 := cp
		asV1.Version = CheckpointV1
		if _, res, _ := l.VerifyCheckpoints(ctx, []Checkpoint{asV1}); res[0].OK {
			t.Error("a version 2 signature passed as version 1")
		}

		// The record of the trees altered: the signed root no longer matches it.
		var rec models.LedgerCheckpoint
		if err := db.First(&rec).Error; err != nil {
			t.Fatal(err)
		}
		var recorded []Head
		_ = json.Unmarshal([]byte(rec.Heads), &recorded)
		recorded[0].Root = make([]byte, 32)
		bad, _ := json.Marshal(recorded)
		if err := db.Exec("UPDATE ledger_checkpoints SET heads = ?", string(bad)).Error; err != nil {
			t.Fatal(err)
		}
		if _, res, _ := l.VerifyCheckpoints(ctx, []Checkpoint{old, cp}); !res[0].OK || res[1].OK {
			t.Errorf("altered tree record: %+v", res)
		}
		if err := db.Exec("UPDATE ledger_checkpoints SET heads = ?", rec.Heads).Error; err != nil {
			t.Fatal(err)
		}

		// A transaction's memo edited and the chain rehashed after it.
		tamper(t, db, fmt.Sprintf("UPDATE ledger_transactions SET memo = 'rewritten' WHERE id = '%s'", ts[1].ID))
		if err := rewriteChain(db, a.GroupID.String()); err != nil {
			t.Fatal(err)
		}
		if v, _ := l.Verify(ctx); !v.OK {
			t.Fatalf("a consistent rewrite passes on its own: %+v", v.FirstBad)
		}
		if _, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{old, cp}); err != nil || res[0].OK || res[1].OK {
			t.Fatalf("after a rewrite: %+v %v", res, err)
		}
	})
}

// The trees a version 2 checkpoint signs are rebuilt by verification from
// the recomputed hashes: a chain whose transactions are intact but whose
// checkpointed tree root was signed wrongly (here: a forged record and
// signature, as a leaked key could make) fails.
func TestVerifyRebuildsTheSignedTrees(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		l := newLedger(t, db)
		bookSales(t, l, Artisan(models.NewID(), models.NewID()), "s", 5)
		cp, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var rec models.LedgerCheckpoint
		if err := db.First(&rec).Error; err != nil {
			t.Fatal(err)
		}
		var heads []Head
		_ = json.Unmarshal([]byte(rec.Heads), &heads)
		heads[0].Root = txLeaf(uuid.Nil, make([]byte, 32))
		raw, _ := json.Marshal(heads)
		forged := cp
		forged.RootHash = chainsRoot(heads)
		forged.Signature = ed25519.Sign(l.opt.SigningKey, forged.message())
		if err := db.Exec("UPDATE ledger_checkpoints SET heads = ?, root_hash = ?", string(raw), forged.RootHash).Error; err != nil {
			t.Fatal(err)
		}
		v, res, err := l.VerifyCheckpoints(ctx, []Checkpoint{forged})
		if err != nil || v.OK || res[0].OK || res[0].Problem == "" {
			t.Fatalf("a wrongly signed tree: %+v %v", res, err)
		}
	})
}

// Proofs asked for on one replica while another books: each proof is of
// one consistent state and verifies, whatever was booked meanwhile.
func TestInclusionProofsWhileBooking(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		writer, reader := newLedger(t, db), newLedger(t, db)
		g := models.NewID()
		a, b := Artisan(models.NewID(), g), Artisan(models.NewID(), models.NewID())
		booked := make(chan uuid.UUID, 200)
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(booked)
			for i := range 60 {
				o := a
				if i%3 == 0 {
					o = b
				}
				tr, _, err := writer.Post(ctx, sale(fmt.Sprint("w", i), o, 100))
				if err != nil {
					t.Error(err)
					return
				}
				booked <- tr.ID
			}
		})
		for range 2 {
			wg.Go(func() {
				for id := range booked {
					p, err := reader.InclusionProof(ctx, id)
					if err != nil {
						t.Errorf("proof of %s: %v", id, err)
						continue
					}
					if err := VerifyInclusion(reader.PublicKey(), p); err != nil {
						t.Errorf("proof of %s: %v", id, err)
					}
				}
			})
		}
		wg.Wait()
		if v, err := reader.Verify(ctx); err != nil || !v.OK {
			t.Fatalf("verify: %+v %v", v.FirstBad, err)
		}
	})
}
