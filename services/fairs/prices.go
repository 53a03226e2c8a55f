package fairs

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// A sale made offline is booked with the product's split as it was when the
// sale was recorded, which may be hours before the batch arrives and after
// the catalogue has changed. The catalogue keeps only the present, so this
// package keeps what it has seen of it: each time it touches a product (a
// stock move, a batch of sales) it records the product's split inputs, in
// force from the latest change of the product, its group's terms or the fees
// (their updated_at), unless they are what it recorded last. A sale then
// takes the version in force at its recorded_at (the earliest known, if it
// was recorded before any). Stock reaches a stall by a move, which records
// the version on its tags; what is lost is a change made and changed again
// between two things this package saw.

// current is a product's split inputs now, as a version to record.
type current struct {
	price models.FairPrice
	group uuid.UUID
}

// currentInputs reads the split inputs in force now of the products.
func currentInputs(db *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]current, error) {
	out := map[uuid.UUID]current{}
	if len(ids) == 0 {
		return out, nil
	}
	fees, err := catalog.FeesIn(db)
	if err != nil {
		return nil, err
	}
	var products []models.Product
	if err := db.Where("id IN ?", ids).Find(&products).Error; err != nil {
		return nil, err
	}
	var groupIDs []uuid.UUID
	for _, p := range products {
		groupIDs = append(groupIDs, p.GroupID)
	}
	var gs []models.Group
	if err := db.Where("id IN ?", groupIDs).Find(&gs).Error; err != nil {
		return nil, err
	}
	byGroup := map[uuid.UUID]models.Group{}
	for _, g := range gs {
		byGroup[g.ID] = g
	}
	var makers []models.ProductMaker
	if err := db.Where("product_id IN ?", ids).Order("product_id, artisan_id").Find(&makers).Error; err != nil {
		return nil, err
	}
	makersOf := map[uuid.UUID][]ledger.MakerMinutes{}
	for _, m := range makers {
		makersOf[m.ProductID] = append(makersOf[m.ProductID], ledger.MakerMinutes{ArtisanID: m.ArtisanID, Minutes: int64(m.LaborMinutes)})
	}
	for _, p := range products {
		g := byGroup[p.GroupID]
		raw, err := json.Marshal(makersOf[p.ID])
		if err != nil {
			return nil, err
		}
		from := p.UpdatedAt
		for _, t := range []time.Time{g.UpdatedAt, fees.UpdatedAt} {
			if t.After(from) {
				from = t
			}
		}
		out[p.ID] = current{group: p.GroupID, price: models.FairPrice{ProductID: p.ID,
			EffectiveFrom: from.UTC().Truncate(time.Microsecond), Currency: p.Currency, Price: p.Price,
			Materials: p.CostMaterials, Packaging: p.CostPackaging, HourlyWage: p.HourlyWage,
			PlatformFeeBPS: fees.PlatformFeeBPS, ProcessingBPS: fees.ProcessingFeeBPS, CollectiveFundBPS: g.CollectiveFundBPS,
			Makers: string(raw)}}
	}
	return out, nil
}

// observe records the split inputs of the products as they are now, where
// they differ from the last version recorded, in product id order.
func (s *Service) observe(tx *gorm.DB, ids []uuid.UUID) error {
	now, err := currentInputs(tx, ids)
	if err != nil {
		return err
	}
	known, err := versions(tx, ids)
	if err != nil {
		return err
	}
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	sorted = slices.Compact(sorted)
	for _, id := range sorted {
		c, ok := now[id]
		if !ok {
			continue
		}
		vs := known[id]
		if len(vs) > 0 {
			last := vs[len(vs)-1]
			if sameInputs(last, c.price) || !c.price.EffectiveFrom.After(last.EffectiveFrom) {
				continue
			}
		}
		v := c.price
		v.SeenAt = s.now()
		// Another replica may record the same version at once: either is it.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&v).Error; err != nil {
			return err
		}
	}
	return nil
}

func sameInputs(a, b models.FairPrice) bool {
	return a.Currency == b.Currency && a.Price == b.Price && a.Materials == b.Materials && a.Packaging == b.Packaging &&
		a.HourlyWage == b.HourlyWage && a.PlatformFeeBPS == b.PlatformFeeBPS && a.ProcessingBPS == b.ProcessingBPS &&
		a.CollectiveFundBPS == b.CollectiveFundBPS && a.Makers == b.Makers
}

// versions are the recorded versions of the products, oldest first.
func versions(db *gorm.DB, ids []uuid.UUID) (map[uuid.UUID][]models.FairPrice, error) {
	out := map[uuid.UUID][]models.FairPrice{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []models.FairPrice
	if err := db.Where("product_id IN ?", ids).Order("product_id, effective_from").Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ProductID] = append(out[r.ProductID], r)
	}
	return out, nil
}

// at is the version in force at t: the latest from at or before t, or the
// earliest known when t is before all of them. vs is oldest first, not empty.
func at(vs []models.FairPrice, t time.Time) models.FairPrice {
	v := vs[0]
	for _, w := range vs[1:] {
		if w.EffectiveFrom.After(t) {
			break
		}
		v = w
	}
	return v
}

// unit is a version as the ledger books a unit of it: its split inputs and
// its makers. The labour is the makers'.
func unit(v models.FairPrice) (pricing.Inputs, []ledger.MakerMinutes, error) {
	var makers []ledger.MakerMinutes
	if err := json.Unmarshal([]byte(v.Makers), &makers); err != nil {
		return pricing.Inputs{}, nil, err
	}
	in := pricing.Inputs{Price: v.Price, Materials: v.Materials, Packaging: v.Packaging, HourlyWage: v.HourlyWage,
		PlatformFeeBPS: int64(v.PlatformFeeBPS), ProcessingBPS: int64(v.ProcessingBPS), CollectiveFundBPS: int64(v.CollectiveFundBPS)}
	for _, m := range makers {
		in.LaborMinutes += m.Minutes
		in.MakerMinutes = append(in.MakerMinutes, m.Minutes)
	}
	return in, makers, nil
}
