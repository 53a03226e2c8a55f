package ledger

import (
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// TypeCashOverShort (group) is where the difference between the cash a
// group counted in a register (a fair stall's) and the cash its sales booked
// is kept until someone explains it: a shortage is a debit (below zero),
// what the group owes the books; an overage a credit. It is the one group
// account that may go below zero, as a shortage is exactly that.
const TypeCashOverShort = "cash_over_short"

// KindCashOverShort is a register's difference posted at its close.
const KindCashOverShort = "cash_over_short"

// BookCashOverShort books, on the group's chain inside tx, a register's
// close that counted diff more cash (less, when diff is negative) than the
// cash sales booked into the platform's cash receipts: the receipts take
// the difference (what was really received) and the group's cash over/short
// account the other side. reference names the close, so booking it again
// books nothing more. memo is part of the chained record (JSON).
func (s *Service) BookCashOverShort(tx *gorm.DB, groupID uuid.UUID, reference string, diff int64, currency, memo string) (models.LedgerTransaction, error) {
	if diff == 0 {
		return models.LedgerTransaction{}, errors.New("ledger: a register that balances has no over/short to book")
	}
	gid := groupID
	t, _, err := s.PostTx(tx, Entry{Reference: reference, Kind: KindCashOverShort, GroupID: &gid, Memo: memo,
		Postings: []Posting{
			{Owner: Platform, Type: TypeCashReceipts, Amount: -diff, Currency: currency},
			{Owner: Group(groupID), Type: TypeCashOverShort, Amount: diff, Currency: currency},
		}})
	return t, err
}
