package fairs

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
)

// Report is an event's sales and cash, stall by stall, for those who may
// read the stalls' groups.
type Report struct {
	Event    Event
	Currency string
	Stalls   []StallReport
	Totals   ReportTotals
}

// StallReport is one stall's figures. The money the makers earned, the
// fund and the margin are the ledger's: the postings of the stall's sales.
type StallReport struct {
	GroupID   uuid.UUID
	GroupName string
	Sales     int64
	Units     int64
	Total     int64
	ByPayment map[string]int64 // cash, jazzcash, easypaisa
	// CashExpected is what the cash sales booked (at the close, as then).
	CashExpected   int64
	CountedCash    *int64
	OverShort      *int64
	ClosedAt       *time.Time
	CashAfterClose int64 // cash sales that reached the books after the close
	Products       []ProductLine
	Artisans       []ArtisanEarning
	GroupMargin    int64 // the group's undistributed margin from these sales
	CollectiveFund int64
	PlatformFee    int64
	Flagged        []models.FairSale // the sales that need reconciliation, in the order they were made
}

// ProductLine is one product's units and sales at a stall.
type ProductLine struct {
	ProductID                                        uuid.UUID
	Title                                            string
	MovedIn, Returned, AtStall, UnitsSold, Unstocked int
	Amount                                           int64
}

// ArtisanEarning is what an artisan earned from a stall's sales: her labour
// (her payable's postings) and the minutes and units of her work sold.
type ArtisanEarning struct {
	ArtisanID   uuid.UUID
	DisplayName string
	Earned      int64
	Minutes     int64
	Units       int64
}

// ReportTotals add up the stalls reported.
type ReportTotals struct {
	Sales, Units, Total, CashExpected, CountedCash, OverShort, ArtisansEarned int64
}

// Report reports an event's stalls to those who may read their groups
// (groups.ReadableIDs: admins every stall, auditors their groups',
// managers their own). An event none of whose stalls the actor may read is
// not_found to her, unless she created it. Errors: forbidden, not_found.
func (s *Service) Report(ctx context.Context, actor services.Actor, eventID uuid.UUID) (Report, error) {
	db := s.db.WithContext(ctx)
	readable, all, err := groups.ReadableIDs(db, actor)
	if err != nil {
		return Report{}, err
	}
	ev, err := loadEvent(db, eventID)
	if err != nil {
		return Report{}, err
	}
	q := db.Table("fair_stalls s").Select("s.*, g.name AS group_name").Joins("JOIN producer_groups g ON g.id = s.group_id").
		Where("s.event_id = ?", eventID)
	if !all {
		q = q.Where("s.group_id IN (?)", readable)
	}
	var stalls []struct {
		models.FairStall
		GroupName string
	}
	if err := q.Order("g.name, s.group_id").Scan(&stalls).Error; err != nil {
		return Report{}, err
	}
	if len(stalls) == 0 && !all && ev.CreatedBy != actor.UserID {
		return Report{}, services.NotFound("event")
	}
	out := Report{Currency: s.opt.Currency, Stalls: []StallReport{}}
	events, err := withStalls(db, []models.FairEvent{ev})
	if err != nil {
		return Report{}, err
	}
	out.Event = events[0]
	for _, st := range stalls {
		r, err := s.stallReport(db, st.FairStall, st.GroupName)
		if err != nil {
			return Report{}, err
		}
		out.Stalls = append(out.Stalls, r)
		t := &out.Totals
		t.Sales, t.Units, t.Total, t.CashExpected = t.Sales+r.Sales, t.Units+r.Units, t.Total+r.Total, t.CashExpected+r.CashExpected
		if r.CountedCash != nil {
			t.CountedCash += *r.CountedCash
			t.OverShort += *r.OverShort
		}
		for _, a := range r.Artisans {
			t.ArtisansEarned += a.Earned
		}
	}
	return out, nil
}

func (s *Service) stallReport(db *gorm.DB, st models.FairStall, name string) (StallReport, error) {
	r := StallReport{GroupID: st.GroupID, GroupName: name, ByPayment: map[string]int64{models.FairPayCash: 0,
		models.FairPayJazzCash: 0, models.FairPayEasypaisa: 0}, CountedCash: st.CountedCash, OverShort: st.OverShort,
		ClosedAt: st.ClosedAt, Products: []ProductLine{}, Artisans: []ArtisanEarning{}, Flagged: []models.FairSale{}}
	var sales []models.FairSale
	if err := db.Where("event_id = ? AND group_id = ?", st.EventID, st.GroupID).Order("recorded_at, id").
		Find(&sales).Error; err != nil {
		return r, err
	}
	for _, sl := range sales {
		r.Sales++
		r.Total += sl.Total
		r.ByPayment[sl.Payment] += sl.Total
		if sl.NeedsReconciliation {
			r.Flagged = append(r.Flagged, sl)
			if sl.Payment == models.FairPayCash && slices.Contains(ReasonsOf(sl), models.FairAfterClose) {
				r.CashAfterClose += sl.Total
			}
		}
	}
	r.CashExpected = r.ByPayment[models.FairPayCash] - r.CashAfterClose
	if st.ExpectedCash != nil {
		r.CashExpected = *st.ExpectedCash
	}

	var products []struct {
		models.FairStallStock
		Title  string
		Amount int64
	}
	if err := db.Table("fair_stall_stock f").Select(`f.*, p.title, COALESCE((SELECT SUM(i.quantity * i.unit_price)
		FROM fair_sale_items i JOIN fair_sales x ON x.id = i.sale_id
		WHERE x.event_id = f.event_id AND x.group_id = f.group_id AND i.product_id = f.product_id), 0) AS amount`).
		Joins("JOIN products p ON p.id = f.product_id").Where("f.event_id = ? AND f.group_id = ?", st.EventID, st.GroupID).
		Order("p.title, f.product_id").Scan(&products).Error; err != nil {
		return r, err
	}
	for _, p := range products {
		r.Units += int64(p.Sold)
		r.Products = append(r.Products, ProductLine{ProductID: p.ProductID, Title: p.Title, MovedIn: p.MovedIn,
			Returned: p.Returned, AtStall: p.Quantity, UnitsSold: p.Sold, Unstocked: p.Unstocked, Amount: p.Amount})
	}

	// The ledger's account of the sales: each item's transaction's postings.
	var postings []struct {
		TransactionID uuid.UUID
		Kind          string
		Memo          string
		Amount        int64
		OwnerKind     string
		OwnerID       uuid.UUID
		Type          string
	}
	if err := db.Table("fair_sale_items i").
		Select("t.id AS transaction_id, t.kind, t.memo, p.amount, a.owner_kind, a.owner_id, a.type").
		Joins("JOIN fair_sales x ON x.id = i.sale_id").
		Joins("JOIN ledger_transactions t ON t.id = i.transaction_id").
		Joins("JOIN ledger_postings p ON p.transaction_id = t.id").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").
		Where("x.event_id = ? AND x.group_id = ? AND p.currency = ?", st.EventID, st.GroupID, s.opt.Currency).
		Order("t.id, p.position").Scan(&postings).Error; err != nil {
		return r, err
	}
	earned, minutes, units := map[uuid.UUID]int64{}, map[uuid.UUID]int64{}, map[uuid.UUID]int64{}
	var last uuid.UUID
	for _, p := range postings {
		switch {
		case p.OwnerKind == models.OwnerArtisan && p.Type == ledger.TypePayable:
			earned[p.OwnerID] += p.Amount
		case p.Type == ledger.TypeUndistributed:
			r.GroupMargin += p.Amount
		case p.Type == ledger.TypeCollectiveFund:
			r.CollectiveFund += p.Amount
		case p.Type == ledger.TypePlatformFees:
			r.PlatformFee += p.Amount
		}
		if p.TransactionID == last {
			continue
		}
		last = p.TransactionID
		w, err := ledger.WorkOf(p.Kind, p.Memo)
		if err != nil {
			return r, err
		}
		for _, m := range w.Makers {
			minutes[m.ArtisanID] += m.Minutes
			units[m.ArtisanID] += m.Units
		}
	}
	var artisans []models.Artisan
	if err := db.Select("id, display_name").Where("group_id = ?", st.GroupID).Order("display_name, id").
		Find(&artisans).Error; err != nil {
		return r, err
	}
	for _, a := range artisans {
		if _, ok := minutes[a.ID]; !ok && earned[a.ID] == 0 {
			continue
		}
		r.Artisans = append(r.Artisans, ArtisanEarning{ArtisanID: a.ID, DisplayName: a.DisplayName, Earned: earned[a.ID],
			Minutes: minutes[a.ID], Units: units[a.ID]})
	}
	return r, nil
}
