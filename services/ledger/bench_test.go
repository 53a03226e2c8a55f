package ledger

// Benchmarks of the ledger on PostgreSQL (issue 5). docs/performance.md
// records their figures and the commands that gave them. They skip unless
// KARIGAR_TEST_DATABASE_URL is set, and `go test` without -bench runs none
// of them. Each works on a new schema of its own, dropped at the end.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
)

// benchWriters is how many bookings are in flight at once.
const benchWriters = 32

// benchDB returns a new migrated PostgreSQL schema whose pool lets every
// writer hold a connection: modelstest.Open's pool of 10 would make the
// writers queue in database/sql instead of in the database.
func benchDB(b *testing.B) *gorm.DB {
	b.Helper()
	if os.Getenv(modelstest.EnvPostgres) == "" {
		b.Skip(modelstest.EnvPostgres + " is not set: the ledger benchmarks run on PostgreSQL only")
	}
	ctx := context.Background()
	// Named, so that its server processes can be told apart in pg_stat_activity.
	u := modelstest.URL(b, "postgres") + "&application_name=karigar-ledger-bench"
	db, err := models.Open(ctx, u, models.OpenOptions{MaxOpenConns: benchWriters + 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = models.Close(db) })
	if _, err := models.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkPostSpread: 32 writers over 1,000 artisan accounts in 100
// groups of 10. A transaction moves money between four accounts of one
// group, so it is booked on that group's chain, as every real booking of a
// group is; 32 writers then meet on the same chain only now and then.
func BenchmarkPostSpread(b *testing.B) { benchPost(b, 100, 10, transfer) }

// BenchmarkPostHot: 32 writers over 10 accounts of one group, so one chain:
// every booking waits for the one before it.
func BenchmarkPostHot(b *testing.B) { benchPost(b, 1, 10, transfer) }

// BenchmarkPostOneChain: as BenchmarkPostSpread, but every booking on one
// chain (the platform's), as if the ledger had one global chain head: what
// chaining per group saves.
func BenchmarkPostOneChain(b *testing.B) {
	benchPost(b, 100, 10, func(rng *rand.Rand, g []Owner) Entry {
		e := transfer(rng, g)
		e.GroupID = nil
		return e
	})
}

// BenchmarkPostSales: as BenchmarkPostSpread, but shaped like a sale: money
// from the platform's card receipts to two artisans of the group, and a fee
// to the platform's fees account. Every booking updates those two platform
// accounts, whatever its group.
func BenchmarkPostSales(b *testing.B) {
	benchPost(b, 100, 10, func(rng *rand.Rand, g []Owner) Entry {
		pick := rng.Perm(len(g))
		x, y, fee := 1+rng.Int64N(1000), 1+rng.Int64N(1000), 1+rng.Int64N(100)
		return Entry{Kind: KindTransfer, GroupID: &g[0].GroupID,
			Postings: []Posting{pkr(Platform, TypeCardReceipts, -x-y-fee), pkr(g[pick[0]], TypePayable, x),
				pkr(g[pick[1]], TypePayable, y), pkr(Platform, TypePlatformFees, fee)}}
	})
}

// transfer is two debits and two credits among four different artisans of
// group g, on the group's chain.
func transfer(rng *rand.Rand, g []Owner) Entry {
	pick := rng.Perm(len(g))
	x, y := 1+rng.Int64N(1000), 1+rng.Int64N(1000)
	return Entry{Kind: KindTransfer, GroupID: &g[0].GroupID,
		Postings: []Posting{pkr(g[pick[0]], TypePayable, -x), pkr(g[pick[1]], TypePayable, -y),
			pkr(g[pick[2]], TypePayable, x), pkr(g[pick[3]], TypePayable, y)}}
}

// benchPost books entries from benchWriters writers until b.Loop is done,
// each made by entry for a group chosen at random. It reports bookings per
// second and their latency.
func benchPost(b *testing.B, groups, perGroup int, entry func(rng *rand.Rand, g []Owner) Entry) {
	ctx := context.Background()
	l := newLedger(b, benchDB(b))
	owners := fundArtisans(b, l, groups, perGroup)

	work := make(chan int)
	latencies := make([][]time.Duration, benchWriters)
	var wg sync.WaitGroup
	for w := range benchWriters {
		rng := rand.New(rand.NewPCG(uint64(w), 1))
		wg.Go(func() {
			for i := range work {
				e := entry(rng, owners[rng.IntN(len(owners))])
				e.Reference = "bench:" + strconv.Itoa(i)
				start := time.Now()
				if _, _, err := l.Post(ctx, e); err != nil {
					b.Error(err)
				}
				latencies[w] = append(latencies[w], time.Since(start))
			}
		})
	}
	// The loop hands out bookings; its own timing stops before the last
	// ones in flight finish, so the rate is measured here, over all of them.
	booked := 0
	start := time.Now()
	for b.Loop() {
		work <- booked
		booked++
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)

	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(booked)/elapsed.Seconds(), "tx/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// benchFunds is what each artisan starts with: enough that no random walk
// of a benchmark's transfers takes one to zero.
const benchFunds = 1_000_000_000

// fundArtisans opens groups of perGroup artisans and credits each one's
// payable from the platform's card receipts (one booking per group).
func fundArtisans(b *testing.B, l *Service, groups, perGroup int) [][]Owner {
	b.Helper()
	out := make([][]Owner, groups)
	for g := range out {
		gid := models.NewID()
		ps := []Posting{pkr(Platform, TypeCardReceipts, -benchFunds*int64(perGroup))}
		for range perGroup {
			a := Artisan(models.NewID(), gid)
			out[g] = append(out[g], a)
			ps = append(ps, pkr(a, TypePayable, benchFunds))
		}
		e := Entry{Reference: "fund:" + gid.String(), Kind: KindTransfer, GroupID: &gid, Postings: ps}
		if _, _, err := l.Post(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// EnvBenchLedgerTx sets how many transactions BenchmarkVerify generates.
const EnvBenchLedgerTx = "KARIGAR_BENCH_LEDGER_TX"

// BenchmarkVerify verifies a ledger of 1,000,000 transactions (or
// KARIGAR_BENCH_LEDGER_TX) of 4 postings each, on 100 group chains, and
// reports transactions verified per second. The ledger is generated once,
// before the timed loop.
func BenchmarkVerify(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv(EnvBenchLedgerTx); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive number", EnvBenchLedgerTx, s)
		}
	}
	ctx := context.Background()
	db := benchDB(b)
	l := newLedger(b, db)
	began := time.Now()
	if err := generateLedger(ctx, db, n, 100, 10); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d transactions in %s", n, time.Since(began).Round(time.Millisecond))

	var v Verification
	for b.Loop() {
		var err error
		if v, err = l.Verify(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if !v.OK || v.TransactionsChecked != int64(n) {
		b.Fatalf("verify: ok %v, %d of %d checked, first bad %+v", v.OK, v.TransactionsChecked, n, v.FirstBad)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// generateLedger writes n valid sales of 4 postings straight into the
// tables, far faster than booking them: card receipts -(a+b+c), two
// artisans' payables +a and +b, the group's collective fund +c, spread in
// turn over groups chains of perGroup artisans each. Hashes come from
// chainHash in the current version, as Post computes them; chain heads and account balances are
// set to match. The protective triggers are set aside for the load (as the
// tamper tests do), so a bulk COPY does not run the balance trigger and the
// foreign-key checks row by row; Verify then checks what they would have.
func generateLedger(ctx context.Context, db *gorm.DB, n, groups, perGroup int) error {
	const cur = "PKR"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	card := models.LedgerAccount{ID: models.NewID(), OwnerKind: models.OwnerPlatform, Type: TypeCardReceipts,
		Currency: cur, MayGoNegative: true, CreatedAt: now}
	accounts := []models.LedgerAccount{card}
	type chain struct {
		key      string
		group    uuid.UUID
		fund     uuid.UUID   // the group's collective fund account
		artisans []uuid.UUID // artisan ids
		payables []uuid.UUID // their payable accounts
		seq      int64
		hash     []byte
		prev     *uuid.UUID
	}
	chains := make([]*chain, groups)
	for g := range chains {
		gid := models.NewID()
		c := &chain{key: gid.String(), group: gid, hash: make([]byte, 32)}
		fund := models.LedgerAccount{ID: models.NewID(), OwnerKind: models.OwnerGroup, OwnerID: gid, GroupID: &gid,
			Type: TypeCollectiveFund, Currency: cur, CreatedAt: now}
		c.fund = fund.ID
		accounts = append(accounts, fund)
		for range perGroup {
			a := models.LedgerAccount{ID: models.NewID(), OwnerKind: models.OwnerArtisan, OwnerID: models.NewID(),
				GroupID: &gid, Type: TypePayable, Currency: cur, CreatedAt: now}
			c.artisans = append(c.artisans, a.OwnerID)
			c.payables = append(c.payables, a.ID)
			accounts = append(accounts, a)
		}
		chains[g] = c
	}
	byID := map[uuid.UUID]*chainAccount{}
	for i := range accounts {
		accounts[i].IdentityHash = identityHash(accounts[i])
		byID[accounts[i].ID] = newChainAccount(accounts[i])
	}
	if err := db.WithContext(ctx).CreateInBatches(accounts, 500).Error; err != nil {
		return err
	}

	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	balances := map[uuid.UUID]int64{}
	err = conn.Raw(func(driverConn any) error {
		tx, err := driverConn.(*stdlib.Conn).Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const batch = 20000
		for from := 0; from < n; from += batch {
			var trows, prows [][]any
			for i := from; i < min(from+batch, n); i++ {
				c := chains[i%groups]
				j := rng.IntN(perGroup)
				k := (j + 1 + rng.IntN(perGroup-1)) % perGroup
				a, bb, f := 100+rng.Int64N(100_000), 100+rng.Int64N(100_000), 1+rng.Int64N(5_000)
				memo, err := json.Marshal(saleMemo{OrderID: models.NewID(), Line: 1, ProductID: models.NewID(), Quantity: 1,
					Work: []workMemo{{ArtisanID: c.artisans[j], Minutes: 90, Units: 1}, {ArtisanID: c.artisans[k], Minutes: 45, Units: 1}}})
				if err != nil {
					return err
				}
				gid := c.group
				t := models.LedgerTransaction{ID: models.NewID(), ChainKey: c.key, ChainSeq: c.seq + 1,
					Reference: "bench:" + strconv.Itoa(i), Kind: KindSale, GroupID: &gid, Memo: string(memo),
					OccurredAt: now.Add(time.Duration(i) * time.Second), PrevID: c.prev, PrevHash: c.hash, HashVersion: currentHashVersion}
				ps := []models.LedgerPosting{
					{TransactionID: t.ID, Position: 1, AccountID: card.ID, Amount: -(a + bb + f), Currency: cur},
					{TransactionID: t.ID, Position: 2, AccountID: c.payables[j], Amount: a, Currency: cur},
					{TransactionID: t.ID, Position: 3, AccountID: c.payables[k], Amount: bb, Currency: cur},
					{TransactionID: t.ID, Position: 4, AccountID: c.fund, Amount: f, Currency: cur},
				}
				chained := make([]posted, len(ps))
				for i, p := range ps {
					chained[i] = posted{LedgerPosting: p, acct: byID[p.AccountID]}
				}
				t.Hash = chainHash(t, chained)
				c.seq, c.hash, c.prev = t.ChainSeq, t.Hash, &t.ID
				trows = append(trows, []any{pgUUID(t.ID), t.ChainKey, t.ChainSeq, t.Reference, t.Kind, pgUUIDPtr(t.GroupID),
					t.Memo, t.OccurredAt, pgUUIDPtr(t.PrevID), t.PrevHash, t.Hash, int32(t.HashVersion)})
				for _, p := range ps {
					balances[p.AccountID] += p.Amount
					prows = append(prows, []any{pgUUID(p.TransactionID), int32(p.Position), pgUUID(p.AccountID), p.Amount, p.Currency})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_transactions"},
				[]string{"id", "chain_key", "chain_seq", "reference", "kind", "group_id", "memo", "occurred_at", "prev_id", "prev_hash", "hash", "hash_version"},
				pgx.CopyFromRows(trows)); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_postings"},
				[]string{"transaction_id", "position", "account_id", "amount", "currency"}, pgx.CopyFromRows(prows)); err != nil {
				return err
			}
		}
		ids, sums := make([]pgtype.UUID, 0, len(balances)), make([]int64, 0, len(balances))
		for id, sum := range balances {
			ids, sums = append(ids, pgUUID(id)), append(sums, sum)
		}
		if _, err := tx.Exec(ctx, `UPDATE ledger_accounts a SET balance = v.sum
			FROM unnest($1::uuid[], $2::bigint[]) AS v(id, sum) WHERE a.id = v.id`, ids, sums); err != nil {
			return err
		}
		for _, c := range chains {
			if _, err := tx.Exec(ctx, "INSERT INTO ledger_chains (chain_key, seq, head_hash, head_transaction_id) VALUES ($1, $2, $3, $4)",
				c.key, c.seq, c.hash, pgUUIDPtr(c.prev)); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return fmt.Errorf("generate ledger: %w", err)
	}
	// A ledger that has been in use for a while has been vacuumed and analysed.
	return db.WithContext(ctx).Exec("VACUUM ANALYZE ledger_accounts, ledger_transactions, ledger_postings, ledger_chains").Error
}

func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func pgUUIDPtr(id *uuid.UUID) pgtype.UUID {
	if id == nil {
		return pgtype.UUID{}
	}
	return pgUUID(*id)
}
