package fairs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// StockInput is units of a product to move; ProductID is uuid.Nil when the
// request's was not a UUID.
type StockInput struct {
	ProductID uuid.UUID
	Quantity  int
}

// ToStall moves units of a product from its online stock to its group's
// stall at the event, all or none: the stock is taken by a conditional
// UPDATE that cannot go below zero, in the transaction that adds the units
// to the stall. The product's split inputs are recorded as they are now
// (the price its tags show). Errors: forbidden, not_found (the event),
// validation_failed (quantity; a product not of a group the actor manages),
// invalid_state (the group has no stall there, its register is closed, the
// event has ended, the product is not published), product_unavailable (its
// price no longer covers its costs and fees), insufficient_stock.
func (s *Service) ToStall(ctx context.Context, actor services.Actor, eventID uuid.UUID, in StockInput) (StockLine, error) {
	return s.move(ctx, actor, eventID, in, true)
}

// FromStall moves units back from the stall to the product's online stock,
// all or none: the stall's units are taken by a conditional UPDATE that
// cannot go below zero. Allowed after the register's close and after the
// event. Errors: as ToStall, with insufficient_stock when the stall holds
// fewer units.
func (s *Service) FromStall(ctx context.Context, actor services.Actor, eventID uuid.UUID, in StockInput) (StockLine, error) {
	return s.move(ctx, actor, eventID, in, false)
}

func (s *Service) move(ctx context.Context, actor services.Actor, eventID uuid.UUID, in StockInput, toStall bool) (StockLine, error) {
	if actor.Role != models.RoleProducer {
		return StockLine{}, services.Forbidden("only the group's managers move its stock")
	}
	db := s.db.WithContext(ctx)
	ev, err := loadEvent(db, eventID)
	if err != nil {
		return StockLine{}, err
	}
	var fe services.FieldErrors
	fe.Check(in.Quantity < 1 || in.Quantity > MaxMove, "quantity", fmt.Sprintf("must be 1 to %d", MaxMove))
	var p models.Product
	if in.ProductID != uuid.Nil {
		if err := db.Where("id = ?", in.ProductID).Limit(1).Find(&p).Error; err != nil {
			return StockLine{}, err
		}
	}
	managed := false
	if p.ID != uuid.Nil {
		if managed, err = groups.IsManager(db, p.GroupID, actor.UserID); err != nil {
			return StockLine{}, err
		}
	}
	fe.Check(!managed, "product_id", "is not a product of a group you manage")
	if err := fe.Err(); err != nil {
		return StockLine{}, err
	}
	var out StockLine
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		// The stall's row first (shared: sales and moves go on together, a
		// close waits), then the product's, then the stall's stock.
		var st models.FairStall
		if err := models.ForShare(tx).Where("event_id = ? AND group_id = ?", eventID, p.GroupID).Limit(1).Find(&st).Error; err != nil {
			return err
		}
		if st.EventID == uuid.Nil {
			return services.Conflict(services.CodeInvalidState,
				"the product's group has no stall at this event: add one first (POST /api/v1/events/%s/stalls)", eventID)
		}
		now := s.now()
		move := models.FairStockMove{ID: models.NewID(), EventID: eventID, GroupID: p.GroupID, ProductID: p.ID,
			Quantity: in.Quantity, MovedBy: actor.UserID, MovedAt: now}
		if toStall {
			switch {
			case st.ClosedAt != nil:
				return services.Conflict(services.CodeInvalidState, "the stall's register is closed: no more stock can go to it")
			case !ev.EndsAt.After(now):
				return services.Conflict(services.CodeInvalidState, "the event has ended: no more stock can go to it")
			}
			if err := s.takeOnline(tx, p, in.Quantity); err != nil {
				return err
			}
			if err := s.observe(tx, []uuid.UUID{p.ID}); err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO fair_stall_stock (event_id, group_id, product_id, quantity, moved_in) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (event_id, group_id, product_id) DO UPDATE
				SET quantity = fair_stall_stock.quantity + excluded.quantity, moved_in = fair_stall_stock.moved_in + excluded.moved_in`,
				eventID, p.GroupID, p.ID, in.Quantity, in.Quantity).Error; err != nil {
				return err
			}
		} else {
			// The product's row first, as a move to the stall takes it.
			if err := tx.Exec("UPDATE products SET stock = stock + ? WHERE id = ?", in.Quantity, p.ID).Error; err != nil {
				return err
			}
			res := tx.Exec(`UPDATE fair_stall_stock SET quantity = quantity - ?, returned = returned + ?
				WHERE event_id = ? AND group_id = ? AND product_id = ? AND quantity >= ?`,
				in.Quantity, in.Quantity, eventID, p.GroupID, p.ID, in.Quantity)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				var at int
				if err := tx.Model(&models.FairStallStock{}).Select("quantity").
					Where("event_id = ? AND group_id = ? AND product_id = ?", eventID, p.GroupID, p.ID).Scan(&at).Error; err != nil {
					return err
				}
				return services.Conflict(services.CodeInsufficientStock,
					"the stall holds %d of %q, fewer than the %d asked to return; nothing was moved", at, p.Title, in.Quantity)
			}
			move.Quantity = -in.Quantity
		}
		if err := tx.Create(&move).Error; err != nil {
			return err
		}
		out = StockLine{Title: p.Title}
		if err := tx.Where("event_id = ? AND group_id = ? AND product_id = ?", eventID, p.GroupID, p.ID).
			First(&out.FairStallStock).Error; err != nil {
			return err
		}
		return tx.Model(&models.Product{}).Select("stock").Where("id = ?", p.ID).Scan(&out.Online).Error
	})
	return out, err
}

// takeOnline takes units of a published product's online stock, or none.
func (s *Service) takeOnline(tx *gorm.DB, p models.Product, n int) error {
	res := tx.Exec("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? AND status = ?",
		n, p.ID, n, models.ProductPublished)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var now models.Product
	if err := tx.Select("status, stock").Where("id = ?", p.ID).First(&now).Error; err != nil {
		return err
	}
	switch now.Status {
	case models.ProductPublished:
		return services.Conflict(services.CodeInsufficientStock,
			"only %d of %q are in stock online, fewer than the %d asked; nothing was moved", now.Stock, p.Title, n)
	case models.ProductNeedsRepricing:
		return services.Conflict(services.CodeProductUnavailable,
			"%q is not for sale now: its price no longer covers its costs and fees; nothing was moved", p.Title)
	}
	return services.Conflict(services.CodeInvalidState, "%q is %s: only a published product can go to a fair", p.Title, now.Status)
}
