package catalog

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// ImportPublished inserts many published products of verified groups at
// once, for benchmark data sets: in batches, with their fair-trade figures
// and search text computed as Create computes them. The caller vouches for
// the rest (makers belong to the group and add up); Create is the way for
// anything a person enters. After the last batch, AnalyzeImported.
func (s *Service) ImportPublished(ctx context.Context, ps []models.Product, makers []models.ProductMaker) error {
	db := s.db.WithContext(ctx)
	var cats []models.Category
	if err := db.Find(&cats).Error; err != nil {
		return err
	}
	fees, err := FeesIn(db)
	if err != nil {
		return err
	}
	catByslug := map[string]models.Category{}
	for _, c := range cats {
		catByslug[c.Slug] = c
	}
	type terms struct {
		group models.Group
		bench models.WageBenchmark
	}
	known := map[uuid.UUID]terms{}
	for i := range ps {
		p := &ps[i]
		t, ok := known[p.GroupID]
		if !ok {
			if err := db.First(&t.group, "id = ?", p.GroupID).Error; err != nil {
				return err
			}
			b, err := Benchmark(db, t.group.Province)
			if err != nil {
				return err
			}
			t.bench = b
			known[p.GroupID] = t
		}
		g := t.group
		if g.Status != models.GroupVerified {
			return fmt.Errorf("catalog: import into unverified group %s", g.ID)
		}
		p.Status, p.Currency = models.ProductPublished, s.opt.Currency
		if err := figures(p, g, t.bench, fees); err != nil {
			return fmt.Errorf("catalog: import %q: %w", p.Title, err)
		}
		if p.Shortfall > 0 {
			return fmt.Errorf("catalog: import %q: the price is %s short of its costs and fees", p.Title,
				models.NewMoney(p.Shortfall, p.Currency))
		}
		c := catByslug[p.Category]
		p.Province, p.DistrictKey = g.Province, g.DistrictKey
		p.SearchText = joinText(p.Description, c.Name, c.NameUr, p.Materials)
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.CreateInBatches(ps, 500).Error; err != nil {
			return err
		}
		return tx.CreateInBatches(makers, 1000).Error
	})
}

// AnalyzeImported refreshes the planner's statistics of the tables
// ImportPublished writes (see models.Analyze): an import calls it once
// after its last batch, before anything reads the catalogue. Once, not per
// batch: at 100,000 products an ANALYZE takes seconds.
func (s *Service) AnalyzeImported(ctx context.Context) error {
	tables := []string{"products", "product_makers"}
	if models.DialectOf(s.db) == models.Postgres {
		tables = append(tables, "search_words") // filled by a trigger on products
	}
	return models.Analyze(ctx, s.db, tables...)
}
