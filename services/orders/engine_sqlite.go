package orders

import (
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// SQLite lets one transaction write at a time: checkouts already wait in
// turn, and a sweep cannot meet another's locked rows, so neither needs
// anything added.
var sqliteEngine = engine{
	queueForStock: func([]uuid.UUID) (string, []any) { return "", nil },
	joinText:      "group_concat",
	claimDue:      func(q *gorm.DB) *gorm.DB { return q },
	writeOrder:    writeEach,
}
