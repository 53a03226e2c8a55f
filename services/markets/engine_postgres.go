package markets

import (
	"encoding/binary"

	"github.com/google/uuid"
)

var postgresEngine = engine{
	queueForSlot: func(q string, args []any, slot uuid.UUID) (string, []any) {
		k1, k2 := slotQueueKey(slot)
		return q + queueForSlot, append(args, k1, k2)
	},
}

// queueForSlot makes a slot's UPDATE first wait for a transaction-scoped
// advisory lock on the slot (a one-time filter, evaluated before the row is
// read), as the orders service does for a product's stock: the waiters for
// a row lock are woken together at each new row version and race, and
// some checkouts of a busy slot lose many times over; an advisory lock's
// waiters queue in arrival order. Its key is in the two-key space, which
// PostgreSQL keeps apart from the one-key space of the stock's locks, with
// a first key that names the order cycles' slots. It orders waiters; the
// conditional UPDATE is still what keeps the slot's limit.
const queueForSlot = " AND (SELECT true FROM pg_advisory_xact_lock(CAST(? AS integer), CAST(? AS integer)))"

// slotAdvisoryClass is the first key of a slot's advisory lock: "cs" (cycle slot).
const slotAdvisoryClass = 0x6373

// slotQueueKey is the advisory lock key of a slot: the class, and 4 of the
// random bytes of its UUIDv7.
func slotQueueKey(id uuid.UUID) (int32, int32) {
	return slotAdvisoryClass, int32(binary.BigEndian.Uint32(id[12:]))
}
