package fairs

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/pricing"
)

// Label is a product's price tag at a fair.
type Label struct {
	ProductID uuid.UUID
	Title     string
	GroupName string
	Currency  string
	Price     int64
	// ToMakers is what the makers get of one unit sold for cash at the
	// stall: their labour and the group's margin, as pricing.Book books a
	// cash sale (no card fee); ShareBPS is it in basis points of the price.
	ToMakers int64
	ShareBPS int64
	AtStall  int
}

// LabelSheet is an event's price tags.
type LabelSheet struct {
	Event  models.FairEvent
	Labels []Label
}

// Labels returns a tag for each published product that a stall of the event
// holds units of (of one group's stall, when groupID is not nil), by group
// and title, with the price and split in force now. What it shows is public:
// published products, their prices and the makers' share. Errors: not_found
// (the event).
func (s *Service) Labels(ctx context.Context, eventID uuid.UUID, groupID *uuid.UUID) (LabelSheet, error) {
	db := s.db.WithContext(ctx)
	ev, err := loadEvent(db, eventID)
	if err != nil {
		return LabelSheet{}, err
	}
	q := db.Table("fair_stall_stock f").Select("f.product_id, f.quantity, p.title, g.name AS group_name").
		Joins("JOIN products p ON p.id = f.product_id").Joins("JOIN producer_groups g ON g.id = f.group_id").
		Where("f.event_id = ? AND f.quantity > 0 AND p.status = ? AND g.status = ?", eventID, models.ProductPublished, models.GroupVerified)
	if groupID != nil {
		q = q.Where("f.group_id = ?", *groupID)
	}
	var rows []struct {
		ProductID uuid.UUID
		Quantity  int
		Title     string
		GroupName string
	}
	if err := q.Order("g.name, p.title, f.product_id").Scan(&rows).Error; err != nil {
		return LabelSheet{}, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ProductID
	}
	now, err := currentInputs(db, ids)
	if err != nil {
		return LabelSheet{}, err
	}
	out := LabelSheet{Event: ev, Labels: []Label{}}
	for _, r := range rows {
		in, _, err := unit(now[r.ProductID].price)
		if err != nil {
			return LabelSheet{}, err
		}
		b, err := pricing.Book(in, 1, 0)
		if errors.Is(err, pricing.ErrInvalidInputs) {
			continue // no makers recorded: nothing honest to print
		} else if err != nil {
			return LabelSheet{}, err
		}
		toMakers := b.Labor() + b.GroupMargin
		out.Labels = append(out.Labels, Label{ProductID: r.ProductID, Title: r.Title, GroupName: r.GroupName,
			Currency: now[r.ProductID].price.Currency, Price: in.Price, ToMakers: toMakers, ShareBPS: toMakers * 10000 / in.Price,
			AtStall: r.Quantity})
	}
	return out, nil
}
