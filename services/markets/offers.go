package markets

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// OfferInput is a group's product put on sale in a cycle, with an optional
// cap on the units it sells there (stock is the only cap without one).
type OfferInput struct {
	ProductID   string
	MaxQuantity *int
}

// Offer puts a product on sale in a cycle, for a manager of the product's
// group; any verified group may offer in any cycle. Errors: forbidden (not
// a producer), not_found (no such cycle), validation_failed (not a
// published product of a group the actor manages, a cap out of range),
// cycle_closed (the cycle has closed), conflict (offered already).
func (s *Service) Offer(ctx context.Context, actor services.Actor, cycleID uuid.UUID, in OfferInput) (Offer, error) {
	if actor.Role != models.RoleProducer {
		return Offer{}, services.Forbidden("only a manager of the product's group offers it in an order cycle")
	}
	db := s.db.WithContext(ctx)
	c, err := cycleRow(db, cycleID)
	if err != nil {
		return Offer{}, err
	}
	if StatusAt(c, s.now()) == Closed {
		return Offer{}, services.Conflict(services.CodeCycleClosed, "the order cycle %q closed at %s (Pakistan time): it takes no more offers",
			c.Name, Local(c.ClosesAt))
	}
	var fe services.FieldErrors
	fe.Check(in.MaxQuantity != nil && (*in.MaxQuantity < 1 || *in.MaxQuantity > MaxQuantity), "max_quantity",
		fmt.Sprintf("must be from 1 to %d units (leave it out for no cap but the stock)", MaxQuantity))
	var p models.Product
	if id, err := uuid.Parse(in.ProductID); err != nil {
		fe.Add("product_id", "is not a UUID")
	} else {
		if err := db.Where("id = ?", id).Limit(1).Find(&p).Error; err != nil {
			return Offer{}, err
		}
		mine := false
		if p.ID != uuid.Nil {
			if mine, err = groups.IsManager(db, p.GroupID, actor.UserID); err != nil {
				return Offer{}, err
			}
		}
		switch {
		case !mine:
			fe.Add("product_id", "is not a product of a group you manage")
		case p.Status != models.ProductPublished || p.Currency != c.Currency:
			fe.Add("product_id", "is not on sale: publish it before offering it")
		}
	}
	if err := fe.Err(); err != nil {
		return Offer{}, err
	}
	offer := models.CycleOffer{CycleID: c.ID, ProductID: p.ID, GroupID: p.GroupID, MaxQuantity: in.MaxQuantity,
		CreatedBy: actor.UserID, CreatedAt: s.now()}
	err = models.Transact(ctx, db, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&offer)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return services.Conflict(services.CodeConflict, "%q is offered in this order cycle already", p.Title)
		}
		return nil
	})
	if err != nil {
		return Offer{}, err
	}
	offers, err := offersOf(db, []uuid.UUID{c.ID})
	if err != nil {
		return Offer{}, err
	}
	for _, o := range offers {
		if o.ProductID == p.ID {
			return o, nil
		}
	}
	return Offer{}, fmt.Errorf("markets: the offer of %s in %s is gone", p.ID, c.ID)
}
