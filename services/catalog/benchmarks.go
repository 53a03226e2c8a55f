package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pricing"
)

// DefaultHoursPerMonth is 26 working days of 8 hours, the divisor of the
// statutory monthly minimum wages.
const DefaultHoursPerMonth = 208

// BenchmarkInput is an admin's setting of one region's wage benchmark.
type BenchmarkInput struct {
	Name          string
	Monthly       models.Money
	HoursPerMonth *int // nil: DefaultHoursPerMonth
	Source        string
}

// Benchmarks lists the wage benchmarks, the federal one last (it stands for
// every region without its own).
func (s *Service) Benchmarks(ctx context.Context) ([]models.WageBenchmark, error) {
	var out []models.WageBenchmark
	if err := s.db.WithContext(ctx).Order("region").Find(&out).Error; err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b models.WageBenchmark) int {
		return boolInt(a.Region == models.FederalRegion) - boolInt(b.Region == models.FederalRegion)
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetBenchmark creates or replaces the wage benchmark of region (a province
// slug, or "federal"), and in the same transaction recomputes the figures of
// every product whose group's province it applies to, so that fair_wage
// filters and the transparency page agree with it at once. created says
// whether the region had none. Errors: forbidden for anyone but an admin;
// bad_request for an unknown region; validation_failed.
func (s *Service) SetBenchmark(ctx context.Context, actor services.Actor, region string, in BenchmarkInput) (models.WageBenchmark, bool, error) {
	if actor.Role != models.RoleAdmin {
		return models.WageBenchmark{}, false, services.Forbidden("only admins set wage benchmarks")
	}
	if region != models.FederalRegion && !models.Province(region).Valid() {
		return models.WageBenchmark{}, false, services.BadRequest("region %q is not federal or one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad", region)
	}
	b := models.WageBenchmark{Region: region, Name: strings.TrimSpace(in.Name), Currency: in.Monthly.Currency,
		Monthly: in.Monthly.Amount, HoursPerMonth: DefaultHoursPerMonth, Source: strings.TrimSpace(in.Source), UpdatedAt: s.now()}
	if in.HoursPerMonth != nil {
		b.HoursPerMonth = *in.HoursPerMonth
	}
	var fe services.FieldErrors
	fe.Check(!services.TextWithin(b.Name, 1, 200), "name", "must be 1 to 200 characters")
	fe.Check(!services.TextWithin(b.Source, 1, 500), "source", "must be 1 to 500 characters: the law or notification and its date")
	fe.Check(b.Currency != s.opt.Currency, "monthly.currency", "must be "+s.opt.Currency)
	fe.Check(b.HoursPerMonth < 1 || b.HoursPerMonth > 744, "hours_per_month", "must be 1 to 744 (the hours in a month)")
	fe.Check(b.Monthly <= 0 || b.Monthly > pricing.MaxHourlyWage, "monthly.amount",
		"must be above 0 and at most "+models.NewMoney(pricing.MaxHourlyWage, s.opt.Currency).String())
	if err := fe.Err(); err != nil {
		return models.WageBenchmark{}, false, err
	}
	b.Hourly = b.Monthly / int64(b.HoursPerMonth)
	if b.Hourly == 0 {
		return models.WageBenchmark{}, false, services.Invalid(map[string]string{"monthly.amount": "is less than one minor unit an hour"})
	}

	var created bool
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var old models.WageBenchmark
		err := models.ForUpdate(tx).First(&old, "region = ?", region).Error
		created = errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !created {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&b).Error; err != nil {
			return err
		}
		provinces, err := provincesUnder(tx, region)
		if err != nil || len(provinces) == 0 {
			return err
		}
		// Groups before products, in id order: the order product writes take them in.
		var ids []string
		if err := models.ForNoKeyUpdate(tx).Model(&models.Group{}).Where("province IN ?", provinces).
			Order("id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		_, err = s.refigureWhere(tx, "province IN ?", provinces)
		return err
	})
	return b, created, err
}

// provincesUnder lists the provinces whose products the benchmark of region
// applies to: the province itself, or for the federal benchmark every
// province without its own.
func provincesUnder(tx *gorm.DB, region string) ([]string, error) {
	if region != models.FederalRegion {
		return []string{region}, nil
	}
	var own []string
	if err := tx.Model(&models.WageBenchmark{}).Pluck("region", &own).Error; err != nil {
		return nil, err
	}
	var out []string
	for _, p := range models.Provinces {
		if !slices.Contains(own, string(p.Slug)) {
			out = append(out, string(p.Slug))
		}
	}
	return out, nil
}
