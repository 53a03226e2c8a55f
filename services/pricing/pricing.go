// Package pricing is the fair-trade split of a price: where each minor unit
// of it goes, and what the makers earn per hour. It is a pure calculator:
// no database, no clock, the same inputs always give the same answer.
package pricing

import "errors"

// Line kinds, in the order Split returns them.
const (
	ArtisanLabor      = "artisan_labor"
	Materials         = "materials"
	Packaging         = "packaging"
	CollectiveFund    = "collective_fund"
	PlatformFee       = "platform_fee"
	PaymentProcessing = "payment_processing"
	GroupMargin       = "group_margin"
)

// Limits keep every product of two inputs inside int64.
const (
	MaxAmount       = 1_000_000_000_000 // 10 billion rupees in paisa
	MaxLaborMinutes = 1_000_000
	MaxHourlyWage   = 1_000_000_000
)

// Inputs are a listing's price and declared costs, and the rates in force.
// Amounts are minor units of one currency; rates are basis points.
type Inputs struct {
	Price             int64
	Materials         int64
	Packaging         int64
	LaborMinutes      int64
	HourlyWage        int64 // per hour of labour
	PlatformFeeBPS    int64
	ProcessingBPS     int64
	CollectiveFundBPS int64
	// MakerMinutes is each maker's labour on one unit, in the order the
	// makers are paid; when given, it must add up to LaborMinutes.
	MakerMinutes []int64
}

// Line is one part of the price.
type Line struct {
	Kind   string
	Amount int64
	BPS    int64 // Amount × 10000 ÷ price, rounded down
}

// Split is the breakdown of one price.
type Split struct {
	Lines               []Line
	ArtisanShareBPS     int64 // (labour + group margin) × 10000 ÷ price
	EffectiveHourlyWage int64 // (labour + group margin) × 60 ÷ labour minutes
	// MakerLabor is each maker's part of the labour line, in the order of
	// Inputs.MakerMinutes: her minutes × the hourly wage ÷ 60, rounded down,
	// and the paisa the rounding leaves to the first maker.
	MakerLabor []int64
}

// Amount returns the amount of the line of kind, or 0.
func (s Split) Amount(kind string) int64 {
	for _, l := range s.Lines {
		if l.Kind == kind {
			return l.Amount
		}
	}
	return 0
}

// ShortfallError says the price cannot cover the costs and fees; Shortfall is
// how much more the price would need to be, in minor units, at the least.
type ShortfallError struct {
	Shortfall int64
}

func (e *ShortfallError) Error() string { return "the price does not cover its costs and fees" }

// ErrInvalidInputs is returned for inputs outside the limits (negative
// amounts, a price of zero, no labour).
var ErrInvalidInputs = errors.New("pricing: inputs out of range")

// Compute splits in.Price by the contract's formula, each computed line
// rounded down: labour = minutes × hourly wage ÷ 60; materials and packaging
// as declared; platform fee and processing as rates of the price; the margin
// is what is left, of which the collective fund takes its rate and the rest
// is the group margin. The lines sum exactly to the price. A margin below
// zero is a *ShortfallError naming the smallest price increase that fixes it.
func Compute(in Inputs) (Split, error) {
	if in.Price <= 0 || in.Price > MaxAmount || in.Materials < 0 || in.Materials > MaxAmount ||
		in.Packaging < 0 || in.Packaging > MaxAmount || in.LaborMinutes <= 0 || in.LaborMinutes > MaxLaborMinutes ||
		in.HourlyWage < 0 || in.HourlyWage > MaxHourlyWage || !rate(in.PlatformFeeBPS) || !rate(in.ProcessingBPS) ||
		!rate(in.CollectiveFundBPS) || in.PlatformFeeBPS+in.ProcessingBPS > 10000 || !makersAddUp(in) {
		return Split{}, ErrInvalidInputs
	}
	labor := in.LaborMinutes * in.HourlyWage / 60
	margin := in.Price - fixedCosts(in, in.Price)
	if margin < 0 {
		return Split{}, &ShortfallError{Shortfall: shortfall(in)}
	}
	fund := margin * in.CollectiveFundBPS / 10000
	groupMargin := margin - fund
	amounts := []struct {
		kind   string
		amount int64
	}{
		{ArtisanLabor, labor},
		{Materials, in.Materials},
		{Packaging, in.Packaging},
		{CollectiveFund, fund},
		{PlatformFee, in.Price * in.PlatformFeeBPS / 10000},
		{PaymentProcessing, in.Price * in.ProcessingBPS / 10000},
		{GroupMargin, groupMargin},
	}
	s := Split{Lines: make([]Line, len(amounts))}
	for i, a := range amounts {
		s.Lines[i] = Line{Kind: a.kind, Amount: a.amount, BPS: a.amount * 10000 / in.Price}
	}
	toMakers := labor + groupMargin
	s.ArtisanShareBPS = toMakers * 10000 / in.Price
	s.EffectiveHourlyWage = toMakers * 60 / in.LaborMinutes
	s.MakerLabor = makerLabor(in, labor)
	return s, nil
}

func rate(bps int64) bool { return bps >= 0 && bps <= 10000 }

func makersAddUp(in Inputs) bool {
	if len(in.MakerMinutes) == 0 {
		return true
	}
	var sum int64
	for _, m := range in.MakerMinutes {
		if m <= 0 || m > MaxLaborMinutes {
			return false
		}
		sum += m
	}
	return sum == in.LaborMinutes
}

// makerLabor is section 7's rule for one unit: each maker's minutes at the
// wage, rounded down, and what the rounding left of the labour line to the
// first maker, so the parts sum to the line.
func makerLabor(in Inputs, labor int64) []int64 {
	if len(in.MakerMinutes) == 0 {
		return nil
	}
	out := make([]int64, len(in.MakerMinutes))
	var given int64
	for i, m := range in.MakerMinutes {
		out[i] = m * in.HourlyWage / 60
		given += out[i]
	}
	out[0] += labor - given
	return out
}

// fixedCosts is everything but the margin at a given price.
func fixedCosts(in Inputs, price int64) int64 {
	return in.LaborMinutes*in.HourlyWage/60 + in.Materials + in.Packaging +
		price*in.PlatformFeeBPS/10000 + price*in.ProcessingBPS/10000
}

// shortfall is the least d > 0 with Price+d covering its costs: the fees grow
// with the price, so it searches from the first estimate upwards. The fees
// take under 100% of each added unit, so a covering price exists.
func shortfall(in Inputs) int64 {
	feeBPS := in.PlatformFeeBPS + in.ProcessingBPS
	if feeBPS >= 10000 {
		return MaxAmount // no price can cover fees of 100%
	}
	// Solve price ≥ costs + price×fee÷10000 ignoring rounding, then step to the exact least price.
	costs := in.LaborMinutes*in.HourlyWage/60 + in.Materials + in.Packaging
	p := costs * 10000 / (10000 - feeBPS)
	for p > in.Price && p-fixedCosts(in, p) >= 0 {
		p--
	}
	for p-fixedCosts(in, p) < 0 {
		p++
	}
	return p - in.Price
}

// WageRatioBPS is effective ÷ benchmark in basis points, rounded down; a
// benchmark of zero or less gives 0.
func WageRatioBPS(effective, benchmark int64) int64 {
	if benchmark <= 0 {
		return 0
	}
	return effective * 10000 / benchmark
}
