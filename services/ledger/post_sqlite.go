package ledger

import (
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
)

// SQLite runs one writing transaction at a time, so row locks (and taking
// them in one statement) buy nothing: lock reads the head and the accounts
// one statement after the other.
var sqliteEngine = engine{write: writeEach}

// writeEach writes a booking statement by statement: the transaction, unless
// its reference is taken (then it reports false and writes nothing more),
// its postings, the balances and the chain's head. A balance that must stay
// at or above zero and would not is refused (*InsufficientFundsError) by the
// condition in the UPDATE, so it holds against every other writer; the
// table's CHECK is the backstop. One UPDATE for all the accounts, not a
// round trip each: they are locked already, so the order it updates them in
// does not matter.
func writeEach(tx *gorm.DB, t models.LedgerTransaction, postings []models.LedgerPosting, cs []change) (bool, error) {
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "reference"}}, DoNothing: true}).Create(&t)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if err := tx.Create(&postings).Error; err != nil {
		return false, err
	}
	if len(cs) > 0 {
		var ids, cases []any // cases: id, amount, id, amount, …
		for _, c := range cs {
			ids = append(ids, c.account.ID)
			cases = append(cases, c.account.ID, c.amount)
		}
		delta := "CASE id" + strings.Repeat(" WHEN ? THEN CAST(? AS bigint)", len(cs)) + " END"
		res := tx.Exec("UPDATE ledger_accounts SET balance = balance + "+delta+
			" WHERE id IN ? AND (may_go_negative OR balance + "+delta+" >= 0)", slices.Concat(cases, []any{ids}, cases)...)
		if res.Error != nil {
			return false, res.Error
		}
		if res.RowsAffected != int64(len(cs)) {
			return false, refusal(cs, res.RowsAffected)
		}
	}
	err := tx.Model(&models.LedgerChain{}).Where("chain_key = ?", t.ChainKey).
		Updates(map[string]any{"seq": t.ChainSeq, "head_hash": t.Hash, "head_transaction_id": t.ID}).Error
	return true, err
}
