package markets

import "github.com/google/uuid"

// SQLite lets one transaction write at a time: checkouts into a slot
// already wait in turn.
var sqliteEngine = engine{
	queueForSlot: func(q string, args []any, _ uuid.UUID) (string, []any) { return q, args },
}
