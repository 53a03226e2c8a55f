package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/pricing"
)

// Line is one part of a price, with words a buyer understands.
type Line struct {
	pricing.Line
	Label string
}

// Transparency is where a product's price goes and what its makers earn
// against the wage benchmark of the group's province.
type Transparency struct {
	Product             Product // what the caller may see of it (public makers only, for the public)
	Lines               []Line
	ArtisanShareBPS     int64
	EffectiveHourlyWage int64
	Benchmark           models.WageBenchmark
	RatioBPS            int64
	MeetsBenchmark      bool
}

// Transparency computes the split of a product's price with the fees, the
// group's collective fund rate and the benchmark in force now: what the
// stored figures were computed from. It shows what Get shows, to whom Get
// shows it. Errors: not_found; invalid_state when fees raised since the
// product was listed leave its price short of its costs.
func (s *Service) Transparency(ctx context.Context, actor services.Actor, id uuid.UUID) (Transparency, error) {
	p, err := s.Get(ctx, actor, id)
	if err != nil {
		return Transparency{}, err
	}
	b, err := Benchmark(s.db.WithContext(ctx), p.Group.Province)
	if err != nil {
		return Transparency{}, err
	}
	split, err := pricing.Compute(s.inputs(p.Product, p.Group))
	var short *pricing.ShortfallError
	if errors.As(err, &short) {
		return Transparency{}, services.Conflict(services.CodeInvalidState,
			"the price no longer covers the product's costs and the fees: it is %d %s short", short.Shortfall, p.Currency)
	} else if err != nil {
		return Transparency{}, err
	}
	t := Transparency{Product: p, ArtisanShareBPS: split.ArtisanShareBPS, EffectiveHourlyWage: split.EffectiveHourlyWage,
		Benchmark: b}
	if b.Currency == p.Currency {
		t.RatioBPS = pricing.WageRatioBPS(split.EffectiveHourlyWage, b.Hourly)
		t.MeetsBenchmark = t.RatioBPS >= 10000
	}
	for _, l := range split.Lines {
		t.Lines = append(t.Lines, Line{Line: l, Label: s.label(l.Kind, p.Product, p.Group)})
	}
	return t, nil
}

func (s *Service) inputs(p models.Product, g models.Group) pricing.Inputs {
	return pricing.Inputs{Price: p.Price, Materials: p.CostMaterials, Packaging: p.CostPackaging,
		LaborMinutes: int64(p.LaborMinutes), HourlyWage: p.HourlyWage, PlatformFeeBPS: int64(s.opt.PlatformFeeBPS),
		ProcessingBPS: int64(s.opt.ProcessingBPS), CollectiveFundBPS: int64(g.CollectiveFundBPS)}
}

// label says what a line of the split pays for.
func (s *Service) label(kind string, p models.Product, g models.Group) string {
	switch kind {
	case pricing.ArtisanLabor:
		return "Paid to the artisans for " + Duration(p.LaborMinutes) + " of work"
	case pricing.Materials:
		if len(p.Materials) > 0 {
			return "Materials: " + strings.Join(p.Materials, ", ")
		}
		return "Materials"
	case pricing.Packaging:
		return "Packaging"
	case pricing.CollectiveFund:
		return fmt.Sprintf("The group's collective fund (%s of what is left after costs and fees)", Percent(int64(g.CollectiveFundBPS)))
	case pricing.PlatformFee:
		return fmt.Sprintf("Karigar's platform fee (%s)", Percent(int64(s.opt.PlatformFeeBPS)))
	case pricing.PaymentProcessing:
		return fmt.Sprintf("Card payment processing (an estimate: %s)", Percent(int64(s.opt.ProcessingBPS)))
	case pricing.GroupMargin:
		return "Shared among the makers by " + g.Name
	}
	return kind
}

// Duration is minutes as a reader says them: "4 h 0 min", "45 min".
func Duration(minutes int) string {
	if minutes < 60 {
		return fmt.Sprintf("%d min", minutes)
	}
	return fmt.Sprintf("%d h %d min", minutes/60, minutes%60)
}

// Percent is basis points as a percentage with no needless decimals: 1000 → "10%", 250 → "2.5%".
func Percent(bps int64) string {
	whole, frac := bps/100, bps%100
	switch {
	case frac == 0:
		return fmt.Sprintf("%d%%", whole)
	case frac%10 == 0:
		return fmt.Sprintf("%d.%d%%", whole, frac/10)
	}
	return fmt.Sprintf("%d.%02d%%", whole, frac)
}
