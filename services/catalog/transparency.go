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
// shows it. Errors: not_found; product_unavailable when the price does not
// cover the costs and fees in force (needs_repricing, or a draft), with the
// shortfall in rupees for the group's managers.
func (s *Service) Transparency(ctx context.Context, actor services.Actor, id uuid.UUID) (Transparency, error) {
	p, err := s.Get(ctx, actor, id)
	if err != nil {
		return Transparency{}, err
	}
	db := s.db.WithContext(ctx)
	b, err := Benchmark(db, p.Group.Province)
	if err != nil {
		return Transparency{}, err
	}
	fees, err := FeesIn(db)
	if err != nil {
		return Transparency{}, err
	}
	split, err := pricing.Compute(inputs(p.Product, p.Group, fees))
	var short *pricing.ShortfallError
	if errors.As(err, &short) {
		return Transparency{}, Unavailable(p.Product, p.Privileged, short.Shortfall)
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
		t.Lines = append(t.Lines, Line{Line: l, Label: label(l.Kind, p.Product, p.Group, fees)})
	}
	return t, nil
}

// Unavailable is the refusal of a product that is not for sale now because
// its price does not cover its costs and fees; its managers (privileged) are
// told by how much, in rupees.
func Unavailable(p models.Product, privileged bool, shortfall int64) *services.Error {
	msg := fmt.Sprintf("%q (%s) is not for sale now: its price no longer covers its costs and fees", p.Title, p.ID)
	if privileged {
		msg += fmt.Sprintf("; it is %s short", models.NewMoney(shortfall, p.Currency))
	}
	return services.Conflict(services.CodeProductUnavailable, "%s", msg)
}

// inputs are the split inputs of one unit of p at the fees in force.
func inputs(p models.Product, g models.Group, fees Fees) pricing.Inputs {
	return pricing.Inputs{Price: p.Price, Materials: p.CostMaterials, Packaging: p.CostPackaging,
		LaborMinutes: int64(p.LaborMinutes), HourlyWage: p.HourlyWage, PlatformFeeBPS: int64(fees.PlatformFeeBPS),
		ProcessingBPS: int64(fees.ProcessingFeeBPS), CollectiveFundBPS: int64(g.CollectiveFundBPS)}
}

// label says what a line of the split pays for.
func label(kind string, p models.Product, g models.Group, fees Fees) string {
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
		return fmt.Sprintf("Karigar's platform fee (%s)", Percent(int64(fees.PlatformFeeBPS)))
	case pricing.PaymentProcessing:
		return fmt.Sprintf("Card payment processing (an estimate: %s)", Percent(int64(fees.ProcessingFeeBPS)))
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
