package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/groups"
)

// BulkSize is the shape of a generated data set.
type BulkSize struct {
	Products, Groups, Artisans int
}

// Bulk generates a large catalogue for benchmarks: Groups verified groups
// in the demo groups' places, Artisans artisans spread over them, and
// Products published products that vary the demo products (titles, prices,
// stock), so that searches and filters meet realistic data. Each run adds a
// new data set; it is for benchmark databases, not for production.
func Bulk(ctx context.Context, s Services, size BulkSize) (Report, error) {
	var r Report
	if size.Groups < 1 || size.Artisans < size.Groups || size.Products < 0 {
		return r, errors.New("seed: need at least one group and one artisan per group")
	}
	run := time.Now().UTC().Format("20060102150405.000000")
	sess, err := s.Auth.Register(ctx, auth.NewUser{Email: "bench+" + run + "@karigar.example", Password: randomPassword(),
		Name: "Benchmark manager", Role: models.RoleProducer})
	if err != nil {
		return r, err
	}
	manager := services.Actor{UserID: sess.User.ID, Role: models.RoleProducer}
	platform := services.Actor{Role: models.RoleAdmin}
	made := make([]models.Group, size.Groups)
	artisans := make([][]models.Artisan, size.Groups)
	for i := range size.Groups {
		dg := demoGroups[i%len(demoGroups)]
		name := fmt.Sprintf("%s %d", dg.Name, i+1)
		fee := models.NewMoney(dg.ShippingFee, s.Currency)
		g, err := s.Groups.Create(ctx, manager, groups.GroupInput{Name: &name, Description: &dg.Description,
			District: &dg.District, Province: &dg.Province, ShippingFee: &fee, ProfitMethod: &dg.Method,
			CollectiveFundBPS: &dg.CollectiveFundBPS})
		if err != nil {
			return r, err
		}
		if _, err := s.Groups.Verify(ctx, platform, g.ID); err != nil {
			return r, err
		}
		made[i] = g.Group
		r.Groups++
	}
	for i := range size.Artisans {
		gi := i % size.Groups
		da := demoGroups[gi%len(demoGroups)].Artisans[i%len(demoGroups[gi%len(demoGroups)].Artisans)]
		a, err := s.Groups.CreateArtisan(ctx, manager, made[gi].ID, groups.ArtisanInput{DisplayName: &da.DisplayName,
			FullName: &da.FullName, District: &da.District, Gender: &da.Gender, Skills: &da.Skills, PublicProfile: &da.Public})
		if err != nil {
			return r, err
		}
		artisans[gi] = append(artisans[gi], a.Artisan)
		r.Artisans++
	}
	const chunk = 5000
	now := time.Now().UTC().Truncate(time.Microsecond)
	for start := 0; start < size.Products; start += chunk {
		n := min(chunk, size.Products-start)
		ps := make([]models.Product, 0, n)
		ms := make([]models.ProductMaker, 0, n)
		for i := start; i < start+n; i++ {
			gi := i % size.Groups
			dg := demoGroups[gi%len(demoGroups)]
			dp := dg.Products[(i/size.Groups)%len(dg.Products)]
			// Prices vary by up to +30% in steps; costs stay, so every price still covers them.
			price := dp.Price + dp.Price*int64(i%31)/100
			published := now.Add(-time.Duration(size.Products-i) * time.Second)
			p := models.Product{ID: models.NewID(), GroupID: made[gi].ID, Title: fmt.Sprintf("%s (no. %d)", dp.Title, i+1),
				Description: dp.Description, Category: dp.Category, Materials: dp.Materials, Images: []string{},
				Price: price, Stock: (i * 7) % 40, CostMaterials: dp.MaterialsCost, CostPackaging: dp.PackagingCost,
				LaborMinutes: dp.LaborMinutes, HourlyWage: dp.HourlyWage, PublishedAt: &published, CreatedAt: now, UpdatedAt: now}
			if f := dp.Food; f != nil {
				p.FoodIngredients, p.FoodAllergens, p.FoodShelfLifeDays = &f.Ingredients, f.Allergens, &f.ShelfLifeDays
			}
			as := artisans[gi]
			ps = append(ps, p)
			ms = append(ms, models.ProductMaker{ProductID: p.ID, ArtisanID: as[i%len(as)].ID, LaborMinutes: dp.LaborMinutes})
		}
		if err := s.Catalog.ImportPublished(ctx, ps, ms); err != nil {
			return r, err
		}
		r.Products += n
	}
	return r, s.Catalog.AnalyzeImported(ctx)
}
