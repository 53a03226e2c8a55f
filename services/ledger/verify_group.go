package ledger

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// VerifyGroup recomputes one group's chain and checks that the group's and
// its artisans' balances are the sums of their postings, in one snapshot.
// Only that group's bookings are read, so a group's audit report can say
// whether its books verify without walking the whole ledger; each group's
// accounts are only ever posted to by its own chain.
func (s *Service) VerifyGroup(ctx context.Context, groupID uuid.UUID) (bool, error) {
	key := groupID.String()
	ok := true
	err := models.ReadSnapshot(ctx, s.db, func(tx *gorm.DB) error {
		var ts []models.LedgerTransaction
		if err := tx.Where("chain_key = ?", key).Order("chain_seq").Find(&ts).Error; err != nil {
			return err
		}
		var ps []models.LedgerPosting
		if err := tx.Table("ledger_postings p").Select("p.*").Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
			Where("t.chain_key = ?", key).Order("t.chain_seq, p.position").Scan(&ps).Error; err != nil {
			return err
		}
		// The group's accounts and every other account its chain posts to
		// (the platform's), each read once.
		accounts, err := readAccounts(tx, `group_id = ? OR id IN (SELECT p.account_id FROM ledger_postings p
    JOIN ledger_transactions t ON t.id = p.transaction_id WHERE t.chain_key = ?)`, groupID, key)
		if err != nil {
			return err
		}
		var heads []models.LedgerChain
		if err := tx.Where("chain_key = ?", key).Find(&heads).Error; err != nil {
			return err
		}
		w := &walk{v: &Verification{at: map[string]map[int64][]byte{}}, chains: map[string]*chainState{},
			accounts: accounts, totals: map[string]int64{}}
		i := 0
		for _, t := range ts {
			j := i
			var chained []posted
			for j < len(ps) && ps[j].TransactionID == t.ID {
				chained = append(chained, posted{LedgerPosting: ps[j], acct: accountOf(accounts, ps[j].AccountID)})
				j++
			}
			w.add(t, chained)
			i = j
		}
		if c := w.chains[key]; c != nil {
			c.flush(w)
			c.end(heads)
			ok = c.problem == nil
		} else {
			ok = len(heads) == 0 || heads[0].Seq == 0
		}
		for _, total := range w.totals {
			ok = ok && total == 0
		}
		// Only the group's own chain posts to its accounts, so their
		// balances are the sums just taken.
		for _, a := range accounts {
			if a.GroupID != nil && *a.GroupID == groupID {
				ok = ok && a.Balance == a.sum
			}
			ok = ok && !a.edited()
		}
		return nil
	})
	return ok, err
}
