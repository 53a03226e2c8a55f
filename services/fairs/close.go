package fairs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// closeMemo is what a close's ledger transaction records besides its postings.
type closeMemo struct {
	EventID  uuid.UUID `json:"event_id"`
	GroupID  uuid.UUID `json:"group_id"`
	Expected int64     `json:"expected"`
	Counted  int64     `json:"counted"`
}

// CloseStall closes a stall's register with the cash counted in it. The
// cash expected is what the stall's cash sales booked; any difference is
// posted (ledger.BookCashOverShort) to the group's cash over/short account
// in the transaction that closes the register, which holds the stall's row
// so that a batch of sales arriving meanwhile is wholly before the close
// (and expected) or wholly after it (and flagged after_register_close).
// Once only. Errors: forbidden, not_found (the stall, or a group the actor
// does not manage), validation_failed (counted_cash), invalid_state (closed
// already).
func (s *Service) CloseStall(ctx context.Context, actor services.Actor, eventID, groupID uuid.UUID, counted models.Money) (Stall, error) {
	db := s.db.WithContext(ctx)
	g, err := groups.Managed(db, actor, groupID)
	if err != nil {
		return Stall{}, err
	}
	var fe services.FieldErrors
	fe.Check(counted.Currency != s.opt.Currency, "counted_cash.currency", "must be "+s.opt.Currency)
	fe.Check(counted.Amount < 0 || counted.Amount > pricing.MaxAmount, "counted_cash.amount", "must be 0 or more")
	if err := fe.Err(); err != nil {
		return Stall{}, err
	}
	booked := false
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		booked = false
		var st models.FairStall
		if err := models.ForNoKeyUpdate(tx).Where("event_id = ? AND group_id = ?", eventID, groupID).Limit(1).Find(&st).Error; err != nil {
			return err
		}
		if st.EventID == uuid.Nil {
			return services.NotFound("stall")
		}
		if st.ClosedAt != nil {
			return services.Conflict(services.CodeInvalidState, "the stall's register was closed at %s with %s counted",
				st.ClosedAt.In(Karachi).Format(time.RFC3339), money(*st.CountedCash, s.opt.Currency))
		}
		var expected int64
		if err := tx.Model(&models.FairSale{}).Select("COALESCE(SUM(total), 0)").
			Where("event_id = ? AND group_id = ? AND payment = ?", eventID, groupID, models.FairPayCash).Scan(&expected).Error; err != nil {
			return err
		}
		now, diff := s.now(), counted.Amount-expected
		fields := map[string]any{"closed_at": now, "closed_by": actor.UserID, "expected_cash": expected,
			"counted_cash": counted.Amount, "over_short": diff}
		if diff != 0 {
			memo, err := json.Marshal(closeMemo{EventID: eventID, GroupID: groupID, Expected: expected, Counted: counted.Amount})
			if err != nil {
				return err
			}
			t, err := s.opt.Ledger.BookCashOverShort(tx, groupID, "fair-stall:"+eventID.String()+":"+groupID.String()+":close",
				diff, s.opt.Currency, string(memo))
			if err != nil {
				return err
			}
			fields["close_transaction_id"], booked = t.ID, true
		}
		return tx.Model(&models.FairStall{}).Where("event_id = ? AND group_id = ?", eventID, groupID).Updates(fields).Error
	})
	if err != nil {
		return Stall{}, err
	}
	if booked {
		s.opt.Metrics.LedgerBooked(ledger.KindCashOverShort, 1)
	}
	return s.stall(db, eventID, g)
}
