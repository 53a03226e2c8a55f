package orders

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

var postgresEngine = engine{
	queueForStock: func(products []uuid.UUID) (string, []any) {
		keys := make([]string, len(products))
		for i, p := range products {
			keys[i] = strconv.FormatInt(stockQueueKey(p), 10)
		}
		return queueForStock, []any{"{" + strings.Join(keys, ",") + "}"}
	},
	joinText: "string_agg",
	// Every replica sweeps: each expires only the orders no other sweep holds.
	claimDue: func(q *gorm.DB) *gorm.DB { return q.Clauses(skipLocked) },
}

// queueForStock makes a stock UPDATE first wait for a transaction-scoped
// advisory lock on each of its products, in the order given (product id
// order), before it reads a row: an uncorrelated subquery is a one-time
// filter, evaluated once before the scan, and a subquery's output that calls
// a volatile function is never dropped, so each lock is taken. Waiters for a row lock are not served in turn: every UPDATE of
// a product leaves a new row version, the waiters for the old one are woken
// together and race again, and some checkouts of a popular product lose
// many times over (p99 at 14 times p50). An advisory lock's key does not
// change between versions, so its waiters queue in arrival order. Checkouts
// take both locks product by product in id order; other writers of stock
// (cancellations, a manager's edit) take row locks only, in the same order,
// so no two wait for each other.
const queueForStock = " AND (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(? AS bigint[])) AS k) AS q) > 0"

// stockQueueKey is the advisory lock key of a product: the last 8 bytes of
// its UUIDv7, its random bits.
func stockQueueKey(id uuid.UUID) int64 { return int64(binary.BigEndian.Uint64(id[8:])) }

var skipLocked = clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked}
