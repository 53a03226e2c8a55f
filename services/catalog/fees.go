package catalog

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Fees are the platform's fee and the card fee estimate in force, in basis
// points of a price: admin data, one row.
type Fees struct {
	PlatformFeeBPS   int
	ProcessingFeeBPS int
	UpdatedAt        time.Time
}

// FeesInput is an admin's setting of the fees; both are required.
type FeesInput struct {
	PlatformFeeBPS   *int
	ProcessingFeeBPS *int
}

// FeesChange is what setting the fees did to the catalogue.
type FeesChange struct {
	Fees
	Refigured      int64 // products whose stored figures were computed again
	NeedsRepricing int64 // products the fees leave short of their costs
}

// FeesIn reads the fees in force through db (a transaction, when the caller
// freezes them on what it writes). InitFees records the first ones when a
// server starts.
func FeesIn(db *gorm.DB) (Fees, error) {
	var b models.FigureBasis
	err := db.First(&b, "id = 1").Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Fees{}, errors.New("catalog: no fees recorded: the server records them at start")
	}
	return Fees{PlatformFeeBPS: b.PlatformFeeBPS, ProcessingFeeBPS: b.ProcessingBPS, UpdatedAt: b.UpdatedAt}, err
}

// Fees returns the fees in force.
func (s *Service) Fees(ctx context.Context) (Fees, error) { return FeesIn(s.db.WithContext(ctx)) }

// InitFees records this service's configured fees as the first fees in
// force, and figures every product with them, when no fees were recorded
// yet; afterwards fees change only through SetFees, and the configuration
// is not read again. It reports whether it recorded them. Replicas starting
// at once take turns on the groups' locks.
func (s *Service) InitFees(ctx context.Context) (bool, error) {
	var recorded bool
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockAllGroups(tx); err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.FigureBasis{ID: 1,
			PlatformFeeBPS: s.opt.PlatformFeeBPS, ProcessingBPS: s.opt.ProcessingBPS, UpdatedAt: s.now()})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		recorded = true
		_, err := s.refigureWhere(tx, "1 = 1")
		return err
	})
	return recorded, err
}

// SetFees sets the fees in force and, in the same transaction, figures
// every product again with them, as a benchmark change does: a published
// product they leave short of its costs becomes needs_repricing, and one
// they cover again is published. Orders already taken keep the fees frozen
// on them. Errors: forbidden for anyone but an admin; validation_failed.
func (s *Service) SetFees(ctx context.Context, actor services.Actor, in FeesInput) (FeesChange, error) {
	if actor.Role != models.RoleAdmin {
		return FeesChange{}, services.Forbidden("only admins set fees")
	}
	var fe services.FieldErrors
	fe.Check(in.PlatformFeeBPS == nil, "platform_fee_bps", "is required")
	fe.Check(in.ProcessingFeeBPS == nil, "processing_fee_bps", "is required")
	if err := fe.Err(); err != nil {
		return FeesChange{}, err
	}
	platformBPS, processingBPS := *in.PlatformFeeBPS, *in.ProcessingFeeBPS
	fe.Check(platformBPS < 0 || platformBPS > 10000, "platform_fee_bps", "must be 0 to 10000")
	fe.Check(processingBPS < 0 || processingBPS > 10000, "processing_fee_bps", "must be 0 to 10000")
	// At 100% together no price could cover any cost.
	fe.Check(len(fe) == 0 && platformBPS+processingBPS >= 10000, "platform_fee_bps",
		"with processing_fee_bps must stay under 10000 (100%)")
	if err := fe.Err(); err != nil {
		return FeesChange{}, err
	}
	out := FeesChange{Fees: Fees{PlatformFeeBPS: platformBPS, ProcessingFeeBPS: processingBPS, UpdatedAt: s.now()}}
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := lockAllGroups(tx); err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&models.FigureBasis{ID: 1,
			PlatformFeeBPS: platformBPS, ProcessingBPS: processingBPS, UpdatedAt: out.UpdatedAt}).Error; err != nil {
			return err
		}
		var err error
		if out.Refigured, err = s.refigureWhere(tx, "1 = 1"); err != nil {
			return err
		}
		return tx.Model(&models.Product{}).Where("status = ?", models.ProductNeedsRepricing).Count(&out.NeedsRepricing).Error
	})
	return out, err
}

// lockAllGroups takes every group's row lock in id order, the order product
// writes take them in before their product's, so a refiguring of the whole
// catalogue waits for product writes in flight and they wait for it.
func lockAllGroups(tx *gorm.DB) error {
	var ids []string
	return models.ForNoKeyUpdate(tx).Model(&models.Group{}).Order("id").Pluck("id", &ids).Error
}
