package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// Part is one artisan's part of a distribution.
type Part struct {
	ArtisanID   uuid.UUID
	DisplayName string
	Weight      int64 // minutes, units or 1, by the group's method
	Amount      int64
}

// DistributionResult is a distribution with its parts.
type DistributionResult struct {
	models.Distribution
	From  time.Time // the end of the previous distribution's period, or zero
	Parts []Part
}

// Distribute shares the group's undistributed margin booked since the
// previous distribution and until `until` (now if nil) among its artisans by the group's method: the labour
// minutes of the units sold since the previous distribution, the units they
// made, or equally among the active artisans. The parts are a
// largest-remainder allocation (models.AllocateInt): they sum exactly to
// the margin, and the same inputs always give the same parts. Errors:
// forbidden, not_found, validation_failed (until in the future or before the
// previous distribution's), invalid_state (nothing to share, or no work to
// share it by), insufficient_funds (a distribution made at the same time
// took the margin first).
func (s *Service) Distribute(ctx context.Context, actor services.Actor, groupID uuid.UUID, until *time.Time) (DistributionResult, error) {
	db := s.db.WithContext(ctx)
	g, err := groups.Managed(db, actor, groupID)
	if err != nil {
		return DistributionResult{}, err
	}
	now := s.now()
	end := now
	if until != nil {
		end = until.UTC().Truncate(time.Microsecond)
	}
	var out DistributionResult
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		// The chain's lock first, as PostTx takes it: a distribution made at
		// the same time waits, then reads this one as the previous.
		if _, err := lockChain(tx, groupID.String()); err != nil {
			return err
		}
		var prev models.Distribution
		if err := tx.Where("group_id = ?", groupID).Order("until DESC").Limit(1).Find(&prev).Error; err != nil {
			return err
		}
		if end.After(now) || (prev.ID != uuid.Nil && end.Before(prev.Until)) {
			return services.Invalid(map[string]string{"until": "must be no later than now and no earlier than the previous distribution's (" +
				prev.Until.Format(time.RFC3339) + ")"})
		}
		out.From = prev.Until
		var margin []struct {
			Amount  int64
			Balance int64
		}
		if err := tx.Table("ledger_accounts a").
			Select("a.balance, COALESCE((SELECT SUM(p.amount) FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id"+
				" WHERE p.account_id = a.id AND t.kind <> ? AND t.occurred_at > ? AND t.occurred_at <= ?), 0) AS amount",
				KindDistribution, prev.Until, end).
			Where("a.owner_kind = ? AND a.owner_id = ? AND a.type = ? AND a.currency = ?",
				models.OwnerGroup, groupID, TypeUndistributed, s.opt.Currency).
			Scan(&margin).Error; err != nil {
			return err
		}
		var amount int64
		if len(margin) == 1 {
			// A refund booked after the previous distribution can leave less than the period earned.
			amount = min(margin[0].Amount, margin[0].Balance)
		}
		if amount <= 0 {
			return services.Conflict(services.CodeInvalidState, "the group has no undistributed margin booked until %s", end.Format(time.RFC3339))
		}
		parts, err := s.weights(tx, g, prev.Until, end)
		if err != nil {
			return err
		}
		weights := make([]int64, len(parts))
		for i, p := range parts {
			weights[i] = p.Weight
		}
		if !slices.ContainsFunc(weights, func(w int64) bool { return w > 0 }) {
			return services.Conflict(services.CodeInvalidState,
				"no %s recorded for the group's artisans in the period to share the margin by", g.ProfitMethod)
		}
		amounts, err := models.AllocateInt(amount, weights)
		if err != nil {
			return err
		}
		d := models.Distribution{ID: models.NewID(), GroupID: groupID, Method: g.ProfitMethod, Until: end, Amount: amount,
			Currency: s.opt.Currency, CreatedBy: actor.UserID, CreatedAt: now}
		memo, err := json.Marshal(map[string]string{"distribution_id": d.ID.String(), "method": d.Method,
			"from": prev.Until.UTC().Format(time.RFC3339Nano), "until": end.Format(time.RFC3339Nano)})
		if err != nil {
			return err
		}
		e := Entry{Reference: "distribution:" + d.ID.String(), Kind: KindDistribution, GroupID: &groupID, Memo: string(memo),
			Postings: []Posting{{Owner: Group(groupID), Type: TypeUndistributed, Amount: -amount, Currency: d.Currency}}}
		for i := range parts {
			parts[i].Amount = amounts[i]
			if amounts[i] > 0 {
				e.Postings = append(e.Postings, Posting{Owner: Artisan(parts[i].ArtisanID, groupID), Type: TypePayable,
					Amount: amounts[i], Currency: d.Currency})
			}
		}
		t, _, err := s.PostTx(tx, e)
		var short *InsufficientFundsError
		if errors.As(err, &short) {
			return services.Conflict(services.CodeInsufficientFunds, "another distribution took the group's margin first; try again")
		} else if err != nil {
			return err
		}
		d.TransactionID = t.ID
		out.Distribution, out.Parts = d, parts
		return tx.Create(&d).Error
	})
	return out, err
}

// weights are the group's artisans, in id order, each with her weight for
// the group's method over the period (from, until].
func (s *Service) weights(tx *gorm.DB, g models.Group, from, until time.Time) ([]Part, error) {
	var artisans []models.Artisan
	if err := tx.Select("id, display_name, active").Where("group_id = ?", g.ID).Order("id").Find(&artisans).Error; err != nil {
		return nil, err
	}
	parts := make([]Part, len(artisans))
	index := map[uuid.UUID]int{}
	for i, a := range artisans {
		parts[i] = Part{ArtisanID: a.ID, DisplayName: a.DisplayName}
		index[a.ID] = i
		if g.ProfitMethod != models.ShareByLaborHours && g.ProfitMethod != models.ShareByUnitsMade && a.Active {
			parts[i].Weight = 1
		}
	}
	if g.ProfitMethod != models.ShareByLaborHours && g.ProfitMethod != models.ShareByUnitsMade {
		return parts, nil
	}
	work, err := s.work(tx, g.ID, from, until)
	if err != nil {
		return nil, err
	}
	for id, w := range work {
		i, ok := index[id]
		if !ok {
			continue
		}
		if g.ProfitMethod == models.ShareByLaborHours {
			parts[i].Weight = max(w.Minutes, 0)
		} else {
			parts[i].Weight = max(w.Units, 0)
		}
	}
	return parts, nil
}

// work sums, per artisan, the labour minutes and units of the sales booked
// in the group's chain in (from, until], less those refunded in it.
func (s *Service) work(tx *gorm.DB, groupID uuid.UUID, from, until time.Time) (map[uuid.UUID]MakerWork, error) {
	var memos []struct {
		Kind string
		Memo string
	}
	if err := tx.Model(&models.LedgerTransaction{}).Select("kind, memo").
		Where("group_id = ? AND kind IN ? AND occurred_at > ? AND occurred_at <= ?",
			groupID, []string{KindSale, KindCashSale, KindRefund}, from, until).
		Scan(&memos).Error; err != nil {
		return nil, err
	}
	out := map[uuid.UUID]MakerWork{}
	for _, m := range memos {
		w, err := WorkOf(m.Kind, m.Memo)
		if err != nil {
			return nil, err
		}
		for _, mw := range w.Makers {
			sum := out[mw.ArtisanID]
			sum.Minutes += mw.Minutes
			sum.Units += mw.Units
			out[mw.ArtisanID] = sum
		}
	}
	return out, nil
}
