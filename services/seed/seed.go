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
	"github.com/karigar/karigar/services/media"
)

// Services are what seeding goes through.
type Services struct {
	Auth    *auth.Service
	Groups  *groups.Service
	Catalog *catalog.Service
	// Media, when set, gives the first product of each demo group a drawn
	// picture as its photo.
	Media *media.Service
	// Currency is the deployment's; demo prices are in its minor units.
	Currency string
}

// Report counts what a run created.
type Report struct {
	Groups, Artisans, Products, Photos, Skipped int
	// Logins are the demo accounts, one per role and one per demo group's
	// manager, whether made by this run or found from an earlier one.
	Logins []Login
}

// Login is a demo account and its known password.
type Login struct {
	Role     models.Role
	Email    string
	Password string
	Group    string // the group a manager manages; "" for the others
	Existed  bool   // the account was there before this run; its password is left as it was
}

// DemoPassword is every demo account's password. The demo data set is for
// development only: the CLI refuses to seed it in production.
const DemoPassword = "karigar-demo-password"

// The demo accounts of the roles that are not group managers.
const (
	DemoAdminEmail   = "demo-admin@karigar.example"
	DemoAuditorEmail = "demo-auditor@karigar.example"
	DemoBuyerEmail   = "demo-buyer@karigar.example"
)

// DemoManagerEmail is the demo account that manages the demo group key.
func DemoManagerEmail(key string) string { return "demo+" + key + "@karigar.example" }

// Demo creates the demo accounts and groups: an admin, an auditor assigned
// to every demo group, a buyer, and the demo groups, each managed by its own
// producer account, verified, with artisans and published products. Every
// demo account has DemoPassword. A group whose manager account exists
// already was seeded before and is skipped, and an account that exists is
// left as it is, so seeding twice duplicates nothing.
func Demo(ctx context.Context, s Services) (Report, error) {
	var r Report
	platform := services.Actor{Role: models.RoleAdmin}
	for _, staff := range []struct {
		role        models.Role
		email, name string
	}{{models.RoleAdmin, DemoAdminEmail, "Demo admin"}, {models.RoleAuditor, DemoAuditorEmail, "Demo auditor"}} {
		_, err := s.Auth.CreateUser(ctx, auth.NewUser{Email: staff.email, Password: DemoPassword, Name: staff.name, Role: staff.role})
		existed := services.IsCode(err, services.CodeConflict)
		if err != nil && !existed {
			return r, fmt.Errorf("demo %s: %w", staff.role, err)
		}
		r.Logins = append(r.Logins, Login{Role: staff.role, Email: staff.email, Password: DemoPassword, Existed: existed})
	}
	_, err := s.Auth.Register(ctx, auth.NewUser{Email: DemoBuyerEmail, Password: DemoPassword, Name: "Demo buyer", Role: models.RoleBuyer})
	existed := services.IsCode(err, services.CodeConflict)
	if err != nil && !existed {
		return r, fmt.Errorf("demo buyer: %w", err)
	}
	r.Logins = append(r.Logins, Login{Role: models.RoleBuyer, Email: DemoBuyerEmail, Password: DemoPassword, Existed: existed})

	for gi, dg := range demoGroups {
		email := DemoManagerEmail(dg.Key)
		sess, err := s.Auth.Register(ctx, auth.NewUser{Email: email,
			Password: DemoPassword, Name: dg.Name + " manager", Role: models.RoleProducer})
		r.Logins = append(r.Logins, Login{Role: models.RoleProducer, Email: email, Password: DemoPassword, Group: dg.Name,
			Existed: services.IsCode(err, services.CodeConflict)})
		if services.IsCode(err, services.CodeConflict) {
			r.Skipped++
			if err := assignDemoAuditor(ctx, s, platform, dg, uuid.Nil); err != nil {
				return r, err
			}
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
		if err := assignDemoAuditor(ctx, s, platform, dg, g.ID); err != nil {
			return r, err
		}
		r.Groups++
		artisans := make([]models.Artisan, len(dg.Artisans))
		for i, da := range dg.Artisans {
			a, err := s.Groups.CreateArtisan(ctx, manager, g.ID, groups.ArtisanInput{DisplayName: &da.DisplayName,
				FullName: &da.FullName, District: &da.District, Gender: &da.Gender, Skills: &da.Skills, PublicProfile: &da.Public})
			if err != nil {
				return r, fmt.Errorf("artisan %s of %s: %w", da.DisplayName, dg.Key, err)
			}
			artisans[i] = a.Artisan
			r.Artisans++
		}
		for pi, dp := range dg.Products {
			id, err := createProduct(ctx, s, manager, g.ID, dp, artisans)
			if err != nil {
				return r, fmt.Errorf("product %q of %s: %w", dp.Title, dg.Key, err)
			}
			r.Products++
			if pi == 0 && s.Media != nil {
				if err := uploadDemoPhoto(ctx, s, manager, id, dp, gi); err != nil {
					return r, fmt.Errorf("photo of %q of %s: %w", dp.Title, dg.Key, err)
				}
				r.Photos++
			}
		}
	}
	return r, nil
}

// assignDemoAuditor lets the demo auditor read the demo group dg, whose id
// is groupID, or, when that is nil (a group seeded by an earlier run), the
// verified group of dg's name and district. Being assigned already is fine.
func assignDemoAuditor(ctx context.Context, s Services, platform services.Actor, dg demoGroup, groupID uuid.UUID) error {
	if groupID == uuid.Nil {
		found, _, err := s.Groups.List(ctx, groups.GroupFilter{Province: dg.Province, District: dg.District, Limit: 100})
		if err != nil {
			return fmt.Errorf("find group %s: %w", dg.Key, err)
		}
		for _, g := range found {
			if g.Name == dg.Name {
				groupID = g.ID
			}
		}
		if groupID == uuid.Nil {
			return nil // its manager exists but the group is not verified: nothing to audit yet
		}
	}
	_, err := s.Groups.AssignAuditor(ctx, platform, groupID, DemoAuditorEmail)
	if err != nil && !services.IsCode(err, services.CodeConflict) {
		return fmt.Errorf("assign the demo auditor to %s: %w", dg.Key, err)
	}
	return nil
}

// createProduct lists dp and publishes it; its labour minutes are shared
// among its makers as evenly as whole minutes allow.
func createProduct(ctx context.Context, s Services, manager services.Actor, groupID uuid.UUID, dp demoProduct, artisans []models.Artisan) (uuid.UUID, error) {
	weights := make([]int64, len(dp.Makers))
	for i := range weights {
		weights[i] = 1
	}
	minutes, err := models.AllocateInt(int64(dp.LaborMinutes), weights)
	if err != nil {
		return uuid.Nil, err
	}
	makers := make([]catalog.Maker, len(dp.Makers))
	for i, idx := range dp.Makers {
		makers[i] = catalog.Maker{ArtisanID: artisans[idx].ID, LaborMinutes: int(minutes[i])}
	}
	money := func(a int64) *models.Money { m := models.NewMoney(a, s.Currency); return &m }
	p, err := s.Catalog.Create(ctx, manager, groupID, catalog.ProductInput{Title: &dp.Title, Description: &dp.Description,
		Category: &dp.Category, Materials: &dp.Materials, Price: money(dp.Price), Stock: &dp.Stock,
		CostMaterials: money(dp.MaterialsCost), CostPackaging: money(dp.PackagingCost), LaborMinutes: &dp.LaborMinutes,
		HourlyWage: money(dp.HourlyWage), Makers: &makers, Food: dp.food()})
	if err != nil {
		return uuid.Nil, err
	}
	_, err = s.Catalog.Publish(ctx, manager, p.ID)
	return p.ID, err
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:40]
}

// food is the product's food facts as the catalogue takes them, or nil.
func (dp demoProduct) food() *catalog.FoodInput {
	if dp.Food == nil {
		return nil
	}
	return &catalog.FoodInput{Ingredients: &dp.Food.Ingredients, Allergens: dp.Food.Allergens, ShelfLifeDays: &dp.Food.ShelfLifeDays}
}
