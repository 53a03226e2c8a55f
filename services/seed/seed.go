// Package seed fills a database with the demo data set, through the same
// services the API uses, so every rule (validation, privacy, fair-trade
// figures) holds for seeded data as for any other.
package seed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
)

// Services are what seeding goes through.
type Services struct {
	Auth    *auth.Service
	Groups  *groups.Service
	Catalog *catalog.Service
	// Currency is the deployment's; demo prices are in its minor units.
	Currency string
}

// Report counts what a run created.
type Report struct {
	Groups, Artisans, Products, Skipped int
}

// Demo creates the demo groups, each managed by its own producer account
// (demo+KEY@karigar.example, with a random password nobody is told: set one
// with a password reset when needed), verified, with artisans and published
// products. A group whose manager account exists already was seeded before
// and is skipped, so seeding twice does not duplicate anything.
func Demo(ctx context.Context, s Services) (Report, error) {
	var r Report
	platform := services.Actor{Role: models.RoleAdmin}
	for _, dg := range demoGroups {
		sess, err := s.Auth.Register(ctx, auth.NewUser{Email: "demo+" + dg.Key + "@karigar.example",
			Password: randomPassword(), Name: dg.Name + " manager", Role: models.RoleProducer})
		if services.IsCode(err, services.CodeConflict) {
			r.Skipped++
			continue
		}
		if err != nil {
			return r, fmt.Errorf("manager of %s: %w", dg.Key, err)
		}
		manager := services.Actor{UserID: sess.User.ID, Role: models.RoleProducer}
		fee := models.NewMoney(dg.ShippingFee, s.Currency)
		g, err := s.Groups.Create(ctx, manager, groups.GroupInput{Name: &dg.Name, Description: &dg.Description,
			District: &dg.District, Province: &dg.Province, ShippingFee: &fee, ProfitMethod: &dg.Method,
			CollectiveFundBPS: &dg.CollectiveFundBPS})
		if err != nil {
			return r, fmt.Errorf("group %s: %w", dg.Key, err)
		}
		if _, err := s.Groups.Verify(ctx, platform, g.ID); err != nil {
			return r, fmt.Errorf("verify %s: %w", dg.Key, err)
		}
		r.Groups++
		artisans := make([]models.Artisan, len(dg.Artisans))
		for i, da := range dg.Artisans {
			a, err := s.Groups.CreateArtisan(ctx, manager, g.ID, groups.ArtisanInput{DisplayName: &da.DisplayName,
				FullName: &da.FullName, District: &da.District, Gender: &da.Gender, Skills: &da.Skills, PublicProfile: &da.Public})
			if err != nil {
				return r, fmt.Errorf("artisan %s of %s: %w", da.DisplayName, dg.Key, err)
			}
			artisans[i] = a
			r.Artisans++
		}
		for _, dp := range dg.Products {
			if err := createProduct(ctx, s, manager, g.ID, dp, artisans); err != nil {
				return r, fmt.Errorf("product %q of %s: %w", dp.Title, dg.Key, err)
			}
			r.Products++
		}
	}
	return r, nil
}

// createProduct lists dp and publishes it; its labour minutes are shared
// among its makers as evenly as whole minutes allow.
func createProduct(ctx context.Context, s Services, manager services.Actor, groupID uuid.UUID, dp demoProduct, artisans []models.Artisan) error {
	weights := make([]int64, len(dp.Makers))
	for i := range weights {
		weights[i] = 1
	}
	minutes, err := models.AllocateInt(int64(dp.LaborMinutes), weights)
	if err != nil {
		return err
	}
	makers := make([]catalog.Maker, len(dp.Makers))
	for i, idx := range dp.Makers {
		makers[i] = catalog.Maker{ArtisanID: artisans[idx].ID, LaborMinutes: int(minutes[i])}
	}
	money := func(a int64) *models.Money { m := models.NewMoney(a, s.Currency); return &m }
	p, err := s.Catalog.Create(ctx, manager, groupID, catalog.ProductInput{Title: &dp.Title, Description: &dp.Description,
		Category: &dp.Category, Materials: &dp.Materials, Price: money(dp.Price), Stock: &dp.Stock,
		CostMaterials: money(dp.MaterialsCost), CostPackaging: money(dp.PackagingCost), LaborMinutes: &dp.LaborMinutes,
		HourlyWage: money(dp.HourlyWage), Makers: &makers})
	if err != nil {
		return err
	}
	_, err = s.Catalog.Publish(ctx, manager, p.ID)
	return err
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:40]
}
