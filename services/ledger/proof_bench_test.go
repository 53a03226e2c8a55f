package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

// BenchmarkInclusionProof: proofs of transactions of a ledger of 10,000 and
// 100,000 transactions (written as BenchmarkVerify writes its ledger), on
// one chain (one group holding every transaction: the deepest tree) and on
// 100 chains. docs/performance.md ("Inclusion proofs") records the figures.
//
//   - stored: a proof of a random transaction against the latest
//     checkpoint, with the block hashes stored (as the service runs);
//   - unstored: the same reading every leaf of the chain instead;
//   - fresh: a transaction booked on a random chain, then its proof (the
//     booking untimed): each proof signs a new checkpoint first, as a
//     receipt checked right after its payout does.
//
// The first checkpoint, which computes and stores every block's hash, is
// reported as first-checkpoint-ms.
func BenchmarkInclusionProof(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, chains := range []int{1, 100} {
			b.Run(fmt.Sprintf("tx=%d/chains=%d", n, chains), func(b *testing.B) {
				benchProofs(b, n, chains)
			})
		}
	}
}

func benchProofs(b *testing.B, n, chains int) {
	ctx := context.Background()
	db := benchDB(b)
	if err := generateLedger(ctx, db, n, chains, 10); err != nil {
		b.Fatal(err)
	}
	var ids []uuid.UUID
	if err := db.Raw("SELECT id FROM ledger_transactions").Scan(&ids).Error; err != nil || len(ids) != n {
		b.Fatalf("%d transactions: %v", len(ids), err)
	}
	// Owners to book more on: each group's first artisan and its fund.
	var payables []models.LedgerAccount
	if err := db.Where("type = ?", TypePayable).Find(&payables).Error; err != nil {
		b.Fatal(err)
	}
	byGroup := map[uuid.UUID]models.LedgerAccount{}
	for _, a := range payables {
		byGroup[*a.GroupID] = a
	}
	owners := make([]models.LedgerAccount, 0, len(byGroup))
	for _, a := range byGroup {
		owners = append(owners, a)
	}

	l := newLedger(b, db)
	start := time.Now()
	if _, err := l.Checkpoint(ctx); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)

	prove := func(b *testing.B, l *Service, id uuid.UUID) {
		p, err := l.InclusionProof(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Path) == 0 {
			b.Fatalf("no path: %+v", p)
		}
	}
	b.Run("stored", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			prove(b, l, ids[rng.IntN(len(ids))])
		}
		b.ReportMetric(float64(first.Microseconds())/1000, "first-checkpoint-ms")
	})
	b.Run("unstored", func(b *testing.B) {
		raw := newLedger(b, db)
		raw.noStoredTrees = true
		rng := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			prove(b, raw, ids[rng.IntN(len(ids))])
		}
	})
	b.Run("fresh", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			a := owners[rng.IntN(len(owners))]
			g := *a.GroupID
			t, _, err := l.Post(ctx, Entry{Reference: "bench:fresh:" + strconv.Itoa(i) + ":" + uuid.NewString(), Kind: KindTransfer,
				GroupID: &g, Postings: []Posting{pkr(Artisan(a.OwnerID, g), TypePayable, -1), pkr(Group(g), TypeCollectiveFund, 1)}})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			prove(b, l, t.ID)
		}
	})
}
