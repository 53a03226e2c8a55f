// Package catalog manages products and the public catalogue: listings with
// their real costs and labour, the draft → published → archived lifecycle,
// and the fair-trade figures (artisan share, effective hourly wage, the wage
// check) stored with each product so the catalogue can filter and sort on them.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/page"
	"github.com/karigar/karigar/services/pricing"
)

// Options configure a Service.
type Options struct {
	Currency string
	// The first fees in force, recorded by InitFees when none are; after
	// that the fees are admin data (SetFees).
	PlatformFeeBPS int
	ProcessingBPS  int
	CursorKey      []byte
	Now            func() time.Time
}

// Service is the catalogue service.
type Service struct {
	db      *gorm.DB
	opt     Options
	cursor  page.Codec
	search  searchEngine
	dialect models.Dialect
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || len(opt.CursorKey) == 0 {
		return nil, errors.New("catalog: a currency and a cursor key are required")
	}
	if opt.PlatformFeeBPS < 0 || opt.ProcessingBPS < 0 || opt.PlatformFeeBPS+opt.ProcessingBPS > 10000 {
		return nil, errors.New("catalog: fees must be 0–10000 bps together")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	dialect := models.DialectOf(db)
	return &Service{db: db, opt: opt, cursor: page.NewCodec(opt.CursorKey), search: searchEngines[dialect],
		dialect: dialect}, nil
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Maker is an artisan's labour on one unit.
type Maker struct {
	ArtisanID    uuid.UUID
	LaborMinutes int
}

// ProductInput is what a manager sets on a product. In an update, nil
// fields are left as they are; Makers, when given, replaces the list.
type ProductInput struct {
	Title         *string
	Description   *string
	Category      *string
	Materials     *[]string
	Images        *[]string
	Price         *models.Money
	Stock         *int
	CostMaterials *models.Money
	CostPackaging *models.Money
	LaborMinutes  *int
	HourlyWage    *models.Money
	Makers        *[]Maker
	Food          *FoodInput // the food categories' facts (food.go)
}

// MakerView is a maker of a product with what the caller may see of her.
type MakerView struct {
	ArtisanID     uuid.UUID
	DisplayName   string
	District      string
	Skills        []string
	PublicProfile bool
	LaborMinutes  int
}

// Product is a product with its group, makers and photos. Makers holds
// every maker for the group's managers and staff (Privileged), and only
// makers with a public profile for everyone else. Photos are in order.
type Product struct {
	models.Product
	Group      models.Group
	Makers     []MakerView
	Photos     []models.ProductImage
	Privileged bool
}

// Create adds a draft product to a group the actor manages. Errors:
// forbidden, not_found, validation_failed (with the shortfall when the price
// cannot cover its costs and fees).
func (s *Service) Create(ctx context.Context, actor services.Actor, groupID uuid.UUID, in ProductInput) (Product, error) {
	var fe services.FieldErrors
	for field, missing := range map[string]bool{"title": in.Title == nil, "category": in.Category == nil,
		"price": in.Price == nil, "stock": in.Stock == nil, "cost.materials": in.CostMaterials == nil,
		"cost.packaging": in.CostPackaging == nil, "cost.labor_minutes": in.LaborMinutes == nil,
		"cost.hourly_wage": in.HourlyWage == nil} {
		fe.Check(missing, field, "is required")
	}
	now := s.now()
	p := models.Product{ID: models.NewID(), GroupID: groupID, Materials: []string{}, Images: []string{},
		Currency: s.opt.Currency, Status: models.ProductDraft, CreatedAt: now, UpdatedAt: now}
	var out Product
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		g, err := groups.Managed(models.ForShare(tx), actor, groupID)
		if err != nil {
			return err
		}
		if err := s.apply(tx, &p, g, in, &fe); err != nil {
			return err
		}
		if p.Shortfall > 0 {
			fe.Add("price.amount", shortMessage(p.Shortfall, p.Currency))
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		if err := replaceMakers(tx, p.ID, in.Makers); err != nil {
			return err
		}
		out, err = load(tx, p.ID, true)
		return err
	})
	return out, err
}

// Update changes a draft or published product of a group the actor
// manages. Errors: forbidden, not_found, invalid_state (archived),
// validation_failed.
func (s *Service) Update(ctx context.Context, actor services.Actor, id uuid.UUID, in ProductInput) (Product, error) {
	var out Product
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, g, err := s.managedProduct(tx, actor, id)
		if err != nil {
			return err
		}
		if p.Status == models.ProductArchived {
			return services.Conflict(services.CodeInvalidState, "an archived product cannot be changed")
		}
		var fe services.FieldErrors
		if err := s.apply(tx, &p, g, in, &fe); err != nil {
			return err
		}
		if p.Shortfall > 0 && in.changesMoney() {
			// A new price or cost must cover the costs and fees; other edits of
			// a product short of them are kept, and it stays withdrawn.
			fe.Add("price.amount", shortMessage(p.Shortfall, p.Currency))
		}
		if in.Makers == nil && in.LaborMinutes != nil {
			// The makers stay; their minutes must still add up.
			var sum int64
			if err := tx.Model(&models.ProductMaker{}).Where("product_id = ?", p.ID).
				Select("coalesce(sum(labor_minutes), 0)").Scan(&sum).Error; err != nil {
				return err
			}
			fe.Check(sum > 0 && sum != int64(p.LaborMinutes), "cost.labor_minutes",
				fmt.Sprintf("must equal the makers' labour minutes, %d; send makers too to change both", sum))
		}
		if (p.Status == models.ProductPublished || p.Status == models.ProductNeedsRepricing) && in.Makers != nil {
			fe.Check(len(*in.Makers) == 0, "makers", "a published product needs at least one maker")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		if err := tx.Save(&p).Error; err != nil {
			return err
		}
		if err := replaceMakers(tx, p.ID, in.Makers); err != nil {
			return err
		}
		out, err = load(tx, p.ID, true)
		return err
	})
	return out, err
}

// Publish makes a draft public. It needs a verified group, at least one
// maker and a price that covers the costs and fees in force. Errors:
// forbidden, not_found, invalid_state (not a draft, or the group is not
// verified), validation_failed (no makers, or the price falls short).
func (s *Service) Publish(ctx context.Context, actor services.Actor, id uuid.UUID) (Product, error) {
	return s.move(ctx, actor, id, func(tx *gorm.DB, p *models.Product, g models.Group) error {
		if p.Status == models.ProductNeedsRepricing {
			return services.Conflict(services.CodeInvalidState,
				"the price no longer covers the costs and fees: it is %s short; a covering price publishes it again",
				models.NewMoney(p.Shortfall, p.Currency))
		}
		if p.Status != models.ProductDraft {
			return services.Conflict(services.CodeInvalidState, "only a draft can be published; this product is %s", p.Status)
		}
		if g.Status != models.GroupVerified {
			return services.Conflict(services.CodeInvalidState, "the group must be verified by an admin before its products are published")
		}
		var makers int64
		if err := tx.Model(&models.ProductMaker{}).Where("product_id = ?", p.ID).Count(&makers).Error; err != nil {
			return err
		}
		if makers == 0 {
			return services.Invalid(map[string]string{"makers": "at least one maker is needed to publish"})
		}
		if p.Shortfall > 0 {
			return services.Invalid(map[string]string{"price.amount": shortMessage(p.Shortfall, p.Currency)})
		}
		now := s.now()
		p.Status, p.PublishedAt = models.ProductPublished, &now
		return nil
	})
}

// Archive withdraws a draft or published product for good. Errors:
// forbidden, not_found, invalid_state (archived already).
func (s *Service) Archive(ctx context.Context, actor services.Actor, id uuid.UUID) (Product, error) {
	return s.move(ctx, actor, id, func(_ *gorm.DB, p *models.Product, _ models.Group) error {
		if p.Status == models.ProductArchived {
			return services.Conflict(services.CodeInvalidState, "the product is archived already")
		}
		p.Status = models.ProductArchived
		return nil
	})
}

func (s *Service) move(ctx context.Context, actor services.Actor, id uuid.UUID,
	change func(tx *gorm.DB, p *models.Product, g models.Group) error) (Product, error) {
	var out Product
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, g, err := s.managedProduct(tx, actor, id)
		if err != nil {
			return err
		}
		if err := change(tx, &p, g); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		if err := tx.Save(&p).Error; err != nil {
			return err
		}
		out, err = load(tx, p.ID, true)
		return err
	})
	return out, err
}

// Get returns a product: a published one to anyone; any other, and its
// private makers and minutes, only to those who may read its group
// (groups.Insider: managers, admins, assigned auditors). Errors: not_found.
func (s *Service) Get(ctx context.Context, actor services.Actor, id uuid.UUID) (Product, error) {
	db := s.db.WithContext(ctx)
	var p models.Product
	if err := db.First(&p, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return Product{}, services.NotFound("product")
	} else if err != nil {
		return Product{}, err
	}
	privileged, err := groups.Insider(db, actor, p.GroupID)
	if err != nil {
		return Product{}, err
	}
	if !privileged && p.Status != models.ProductPublished && p.Status != models.ProductNeedsRepricing {
		return Product{}, services.NotFound("product")
	}
	return load(db, id, privileged)
}

// shortMessage says by how much a price falls short, in rupees.
func shortMessage(shortfall int64, currency string) string {
	return fmt.Sprintf("does not cover the costs and fees: it is %s short", models.NewMoney(shortfall, currency))
}

// changesMoney reports whether an update sets anything the split is made of.
func (in ProductInput) changesMoney() bool {
	return in.Price != nil || in.CostMaterials != nil || in.CostPackaging != nil || in.LaborMinutes != nil ||
		in.HourlyWage != nil || in.Makers != nil
}

// apply validates in and copies it onto p, recomputing the fair-trade figures.
func (s *Service) apply(tx *gorm.DB, p *models.Product, g models.Group, in ProductInput, fe *services.FieldErrors) error {
	if in.Title != nil {
		p.Title = strings.TrimSpace(*in.Title)
		fe.Check(!services.TextWithin(p.Title, 1, 200), "title", "must be 1 to 200 characters")
	}
	if in.Description != nil {
		p.Description = strings.TrimSpace(*in.Description)
		fe.Check(!services.TextWithin(p.Description, 0, 5000), "description", "must be at most 5000 characters")
	}
	if in.Category != nil {
		p.Category = *in.Category
		var n int64
		if err := tx.Model(&models.Category{}).Where("slug = ?", p.Category).Count(&n).Error; err != nil {
			return err
		}
		fe.Check(n == 0, "category", "is not a known category; see GET /api/v1/categories")
	}
	applyFood(p, in.Food, fe)
	if in.Materials != nil {
		p.Materials = trimAll(*in.Materials)
		fe.Check(len(p.Materials) > 30, "materials", "must list at most 30 materials")
		for _, m := range p.Materials {
			fe.Check(!services.TextWithin(m, 1, 60), "materials", "each material must be 1 to 60 characters")
		}
	}
	if in.Images != nil {
		p.Images = trimAll(*in.Images)
		fe.Check(len(p.Images) > 10, "images", "must list at most 10 images")
		for _, im := range p.Images {
			u, err := url.Parse(im)
			fe.Check(err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(im) > 2000,
				"images", "each image must be an absolute http(s) URL")
		}
	}
	money := func(field string, m *models.Money, min, max int64, dst *int64) {
		if m == nil {
			return
		}
		fe.Check(m.Currency != s.opt.Currency, field+".currency", "must be "+s.opt.Currency)
		fe.Check(m.Amount < min || m.Amount > max, field+".amount", fmt.Sprintf("must be from %s to %s (in minor units, from %d to %d)",
			models.NewMoney(min, s.opt.Currency), models.NewMoney(max, s.opt.Currency), min, max))
		*dst = m.Amount
	}
	money("price", in.Price, 1, pricing.MaxAmount, &p.Price)
	money("cost.materials", in.CostMaterials, 0, pricing.MaxAmount, &p.CostMaterials)
	money("cost.packaging", in.CostPackaging, 0, pricing.MaxAmount, &p.CostPackaging)
	money("cost.hourly_wage", in.HourlyWage, 0, pricing.MaxHourlyWage, &p.HourlyWage)
	if in.Stock != nil {
		p.Stock = *in.Stock
		fe.Check(p.Stock < 0 || p.Stock > 1_000_000, "stock", "must be from 0 to 1000000")
	}
	if in.LaborMinutes != nil {
		p.LaborMinutes = *in.LaborMinutes
		fe.Check(p.LaborMinutes < 1 || p.LaborMinutes > pricing.MaxLaborMinutes, "cost.labor_minutes",
			fmt.Sprintf("must be from 1 to %d", pricing.MaxLaborMinutes))
	}
	if in.Makers != nil {
		if err := checkMakers(tx, g.ID, *in.Makers, p.LaborMinutes, fe); err != nil {
			return err
		}
	}
	if len(*fe) > 0 {
		return nil
	}
	if err := s.refigure(tx, p, g); err != nil {
		return err
	}
	p.Province, p.DistrictKey = g.Province, g.DistrictKey
	p.SearchText = s.searchText(tx, p)
	return nil
}

func checkMakers(tx *gorm.DB, groupID uuid.UUID, makers []Maker, laborMinutes int, fe *services.FieldErrors) error {
	fe.Check(len(makers) > 50, "makers", "must list at most 50 makers")
	seen := map[uuid.UUID]bool{}
	ids := []uuid.UUID{}
	sum := 0
	for i, m := range makers {
		field := fmt.Sprintf("makers[%d]", i)
		fe.Check(seen[m.ArtisanID], field+".artisan_id", "is listed twice")
		fe.Check(m.LaborMinutes < 1 || m.LaborMinutes > pricing.MaxLaborMinutes, field+".labor_minutes",
			fmt.Sprintf("must be from 1 to %d", pricing.MaxLaborMinutes))
		seen[m.ArtisanID] = true
		ids = append(ids, m.ArtisanID)
		sum += m.LaborMinutes
	}
	if len(makers) > 0 && sum != laborMinutes {
		fe.Add("makers", fmt.Sprintf("labour minutes add up to %d, but cost.labor_minutes is %d", sum, laborMinutes))
	}
	if len(ids) == 0 {
		return nil
	}
	var members []uuid.UUID
	if err := tx.Model(&models.Artisan{}).Where("group_id = ? AND id IN ?", groupID, ids).Pluck("id", &members).Error; err != nil {
		return err
	}
	in := map[uuid.UUID]bool{}
	for _, id := range members {
		in[id] = true
	}
	for i, m := range makers {
		fe.Check(!in[m.ArtisanID], fmt.Sprintf("makers[%d].artisan_id", i), "is not an artisan of this group")
	}
	return nil
}

func replaceMakers(tx *gorm.DB, productID uuid.UUID, makers *[]Maker) error {
	if makers == nil {
		return nil
	}
	if err := tx.Where("product_id = ?", productID).Delete(&models.ProductMaker{}).Error; err != nil {
		return err
	}
	if len(*makers) == 0 {
		return nil
	}
	rows := make([]models.ProductMaker, len(*makers))
	for i, m := range *makers {
		rows[i] = models.ProductMaker{ProductID: productID, ArtisanID: m.ArtisanID, LaborMinutes: m.LaborMinutes}
	}
	return tx.Create(&rows).Error
}

// refigure recomputes the product's fair-trade figures from its price and
// costs, the fees in force, its group's collective fund rate and the wage
// benchmark of the group's province.
func (s *Service) refigure(tx *gorm.DB, p *models.Product, g models.Group) error {
	b, err := Benchmark(tx, g.Province)
	if err != nil {
		return err
	}
	fees, err := FeesIn(tx)
	if err != nil {
		return err
	}
	return figures(p, g, b, fees)
}

// figures sets the stored figures of p from pricing's split. A price short
// of its costs and fees keeps the figures it had, records the shortfall and
// withdraws a published product from sale (needs_repricing); a covering one
// publishes such a product again.
func figures(p *models.Product, g models.Group, b models.WageBenchmark, fees Fees) error {
	split, err := pricing.Compute(inputs(*p, g, fees))
	var short *pricing.ShortfallError
	if errors.As(err, &short) {
		p.Shortfall, p.MeetsWageBenchmark = short.Shortfall, false
		if p.Status == models.ProductPublished {
			p.Status = models.ProductNeedsRepricing
		}
		return nil
	}
	if err != nil {
		return err
	}
	p.Shortfall = 0
	if p.Status == models.ProductNeedsRepricing {
		p.Status = models.ProductPublished
	}
	p.ArtisanShareBPS = int(split.ArtisanShareBPS)
	p.EffectiveHourlyWage = split.EffectiveHourlyWage
	p.MeetsWageBenchmark = b.Currency == p.Currency && pricing.WageRatioBPS(split.EffectiveHourlyWage, b.Hourly) >= 10000
	return nil
}

// Benchmark is the wage benchmark for province: its own, or the federal one.
func Benchmark(db *gorm.DB, province models.Province) (models.WageBenchmark, error) {
	var bs []models.WageBenchmark
	if err := db.Where("region IN ?", []string{string(province), models.FederalRegion}).Find(&bs).Error; err != nil {
		return models.WageBenchmark{}, err
	}
	var fallback *models.WageBenchmark
	for i, b := range bs {
		if b.Region == string(province) {
			return b, nil
		}
		fallback = &bs[i]
	}
	if fallback == nil {
		return models.WageBenchmark{}, errors.New("catalog: no federal wage benchmark")
	}
	return *fallback, nil
}

// RefigureGroup recomputes the fair-trade figures of every product of a
// group; groups calls it, holding the group's row lock, when the group's
// province or fund rate changes.
func (s *Service) RefigureGroup(tx *gorm.DB, groupID uuid.UUID) error {
	_, err := s.refigureWhere(tx, "group_id = ?", groupID)
	return err
}

// refigureWhere recomputes the stored figures of the products matching the
// condition with the fees in force, writing only those that change, and
// reports how many changed (see figures for what a shortfall does).
func (s *Service) refigureWhere(tx *gorm.DB, cond string, args ...any) (int64, error) {
	fees, err := FeesIn(tx)
	if err != nil {
		return 0, err
	}
	groupsByID := map[uuid.UUID]models.Group{}
	benchmarks := map[models.Province]models.WageBenchmark{}
	var batch []models.Product
	var changed int64
	err = tx.Where(cond, args...).Order("id").FindInBatches(&batch, 500, func(b *gorm.DB, _ int) error {
		for i := range batch {
			p := &batch[i]
			g, ok := groupsByID[p.GroupID]
			if !ok {
				if err := tx.First(&g, "id = ?", p.GroupID).Error; err != nil {
					return err
				}
				groupsByID[p.GroupID] = g
			}
			bm, ok := benchmarks[g.Province]
			if !ok {
				var err error
				if bm, err = Benchmark(tx, g.Province); err != nil {
					return err
				}
				benchmarks[g.Province] = bm
			}
			before := *p
			if err := figures(p, g, bm, fees); err != nil {
				return err
			}
			if p.ArtisanShareBPS == before.ArtisanShareBPS && p.EffectiveHourlyWage == before.EffectiveHourlyWage &&
				p.MeetsWageBenchmark == before.MeetsWageBenchmark && p.Shortfall == before.Shortfall && p.Status == before.Status {
				continue
			}
			changed++
			if err := tx.Model(p).Updates(map[string]any{"artisan_share_bps": p.ArtisanShareBPS,
				"effective_hourly_wage": p.EffectiveHourlyWage, "meets_wage_benchmark": p.MeetsWageBenchmark,
				"shortfall": p.Shortfall, "status": p.Status}).Error; err != nil {
				return err
			}
		}
		return nil
	}).Error
	return changed, err
}

// searchText is the non-title text search reads: description, the
// category's names and the materials.
func (s *Service) searchText(tx *gorm.DB, p *models.Product) string {
	var c models.Category
	_ = tx.First(&c, "slug = ?", p.Category).Error // validated above; a miss only leaves the names out
	return joinText(p.Description, c.Name, c.NameUr, p.Materials)
}

func joinText(description, category, categoryUr string, materials []string) string {
	return strings.Join(append([]string{description, category, categoryUr}, materials...), " ")
}

func (s *Service) managedProduct(tx *gorm.DB, actor services.Actor, id uuid.UUID) (models.Product, models.Group, error) {
	var p models.Product
	if err := tx.First(&p, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return p, models.Group{}, services.NotFound("product")
	} else if err != nil {
		return p, models.Group{}, err
	}
	// The group's terms and benchmark are what the product's figures are
	// computed from: hold them (FOR SHARE) while the product is written, and
	// take the group's lock before the product's (see models.ForShare).
	g, err := groups.Managed(models.ForShare(tx), actor, p.GroupID)
	if services.IsCode(err, services.CodeNotFound) {
		return p, g, services.NotFound("product")
	} else if err != nil {
		return p, g, err
	}
	err = models.ForUpdate(tx).First(&p, "id = ?", id).Error
	return p, g, err
}

// load reads a product with its group, makers and photos.
func load(db *gorm.DB, id uuid.UUID, privileged bool) (Product, error) {
	var out Product
	if err := db.First(&out.Product, "id = ?", id).Error; err != nil {
		return out, err
	}
	if err := db.First(&out.Group, "id = ?", out.GroupID).Error; err != nil {
		return out, err
	}
	makers, err := makersOf(db, []uuid.UUID{id}, privileged)
	if err != nil {
		return out, err
	}
	out.Makers = make([]MakerView, len(makers))
	for i, m := range makers {
		out.Makers[i] = m.MakerView
	}
	if err := db.Where("product_id = ?", id).Order("position").Find(&out.Photos).Error; err != nil {
		return out, err
	}
	out.Privileged = privileged
	return out, nil
}

type productMaker struct {
	MakerView
	productID uuid.UUID
}

// makersOf reads the makers of products in one query, in product and
// artisan id order: all of them for the privileged, else only those with a
// public profile.
func makersOf(db *gorm.DB, productIDs []uuid.UUID, privileged bool) ([]productMaker, error) {
	var rows []struct {
		models.Artisan
		ProductID    uuid.UUID
		MakerMinutes int
	}
	q := db.Table("product_makers m").Select("a.*, m.product_id, m.labor_minutes AS maker_minutes").
		Joins("JOIN artisans a ON a.id = m.artisan_id").Where("m.product_id IN ?", productIDs).Order("m.product_id, a.id")
	if !privileged {
		q = q.Where("a.public_profile = ?", true)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]productMaker, len(rows))
	for i, r := range rows {
		out[i] = productMaker{productID: r.ProductID, MakerView: MakerView{ArtisanID: r.ID, DisplayName: r.DisplayName,
			District: r.District, Skills: r.Skills, PublicProfile: r.PublicProfile, LaborMinutes: r.MakerMinutes}}
	}
	return out, nil
}

func trimAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.TrimSpace(s)
	}
	return out
}
