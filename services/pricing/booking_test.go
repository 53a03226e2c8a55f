package pricing

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomInputs(r *rand.Rand) Inputs {
	in := Inputs{
		Price:             1 + r.Int64N(5_000_000),
		Materials:         r.Int64N(1_000_000),
		Packaging:         r.Int64N(100_000),
		HourlyWage:        r.Int64N(100_000),
		PlatformFeeBPS:    r.Int64N(3000),
		ProcessingBPS:     r.Int64N(1000),
		CollectiveFundBPS: r.Int64N(10001),
	}
	for range 1 + r.IntN(4) {
		m := 1 + r.Int64N(2_000)
		in.MakerMinutes = append(in.MakerMinutes, m)
		in.LaborMinutes += m
	}
	return in
}

// Random lines, quantities and fees: the parts of a booking are never
// negative and sum to the line's amount plus what the platform absorbed;
// with the fee at its estimate a booking is exactly the unit split the
// buyer is shown, line by line, times the quantity; a covered line waives
// nothing and absorbs only what the margin cannot bear.
func TestBookProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		in := randomInputs(r)
		q := 1 + r.Int64N(1000)
		unit, err := Compute(in)
		covered := err == nil
		var short *ShortfallError
		if !covered && !errors.As(err, &short) {
			t.Fatalf("case %d %+v: %v", i, in, err)
		}
		fee := r.Int64N(in.Price*q/5 + 2)
		if covered && r.IntN(2) == 0 {
			fee = unit.Amount(PaymentProcessing) * q
		}
		b, err := Book(in, q, fee)
		if err != nil {
			t.Fatalf("case %d %+v ×%d fee %d: %v", i, in, q, fee, err)
		}
		parts := append(slices.Clone(b.MakerLabor), b.Materials, b.Packaging, b.CollectiveFund, b.PlatformFee,
			b.Processing, b.GroupMargin)
		var sum int64
		for _, p := range append(parts, b.Absorbed, b.Waived) {
			if p < 0 {
				t.Fatalf("case %d %+v ×%d fee %d: negative part in %+v", i, in, q, fee, b)
			}
		}
		for _, p := range parts {
			sum += p
		}
		if sum != b.Amount+b.Absorbed || b.Amount != in.Price*q || b.Processing != fee {
			t.Fatalf("case %d %+v ×%d fee %d: parts sum to %d, not %d + %d absorbed: %+v", i, in, q, fee, sum, in.Price*q, b.Absorbed, b)
		}
		if !covered {
			if b.Waived == 0 && b.Absorbed == 0 {
				t.Fatalf("case %d: an uncovered line booked with nothing waived or absorbed: %+v", i, b)
			}
			continue
		}
		if b.Waived != 0 || b.Labor() != unit.Amount(ArtisanLabor)*q || b.Materials != unit.Amount(Materials)*q ||
			b.Packaging != unit.Amount(Packaging)*q || b.CollectiveFund != unit.Amount(CollectiveFund)*q ||
			b.PlatformFee != unit.Amount(PlatformFee)*q {
			t.Fatalf("case %d %+v ×%d: booking %+v is not the unit split %+v times the quantity", i, in, q, b, unit)
		}
		for j, l := range unit.MakerLabor {
			if b.MakerLabor[j] != l*q {
				t.Fatalf("case %d: maker %d booked %d, not %d × %d", i, j, b.MakerLabor[j], l, q)
			}
		}
		estimate := unit.Amount(PaymentProcessing) * q
		wantMargin := unit.Amount(GroupMargin)*q + estimate - fee
		if fee == estimate && (b.GroupMargin != unit.Amount(GroupMargin)*q || b.Absorbed != 0) {
			t.Fatalf("case %d: at the estimate the margin is %d, not %d", i, b.GroupMargin, unit.Amount(GroupMargin)*q)
		}
		if b.GroupMargin-b.Absorbed != wantMargin {
			t.Fatalf("case %d: margin %d absorbed %d, want %d", i, b.GroupMargin, b.Absorbed, wantMargin)
		}
	}
}

// The makers' unit shares: minutes at the wage rounded down, the odd paisa
// to the first maker.
func TestBookMakerShares(t *testing.T) {
	in := Inputs{Price: 331337, Materials: 50000, Packaging: 5000, LaborMinutes: 240, HourlyWage: 25013,
		PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000, MakerMinutes: []int64{97, 143}}
	b, err := Book(in, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 97 × 25013 ÷ 60 = 40437.68 → 40437, 143 × 25013 ÷ 60 = 59614.3 → 59614; the unit's labour is
	// 240 × 25013 ÷ 60 = 100052, so the first maker takes the odd paisa: 40438.
	if !slices.Equal(b.MakerLabor, []int64{3 * 40438, 3 * 59614}) {
		t.Fatalf("makers %v", b.MakerLabor)
	}
	// Platform fee 33133 a unit (not 10% of the line, 99401); fund 26642; margin 106570 + the estimate 9940.
	if b.PlatformFee != 3*33133 || b.CollectiveFund != 3*26642 || b.GroupMargin != 3*(106570+9940) {
		t.Fatalf("booking %+v", b)
	}
}

// A price short of its frozen costs books with the platform fee cut.
func TestBookUncoveredWaivesThePlatformFee(t *testing.T) {
	// Labour 1000 + materials 550 of a price of 1600 leave 50 for fees of 20% (320) and 3% (48).
	in := Inputs{Price: 1600, Materials: 550, LaborMinutes: 60, HourlyWage: 1000, PlatformFeeBPS: 2000,
		ProcessingBPS: 300, MakerMinutes: []int64{60}}
	b, err := Book(in, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Deficit 318 a unit: the platform keeps 2 of its 320 and the estimate, 48, goes to the margin (cash).
	if b.MakerLabor[0] != 2000 || b.PlatformFee != 4 || b.Waived != 2*318 || b.GroupMargin != 2*48 || b.Absorbed != 0 {
		t.Fatalf("booking %+v", b)
	}
	// Paid by card at a fee of 100: the margin's 96 cannot bear it, the platform absorbs 4.
	if b, err = Book(in, 2, 100); err != nil || b.GroupMargin != 0 || b.Absorbed != 4 {
		t.Fatalf("booking %+v, %v", b, err)
	}
}

func TestBookRefusesOutOfRange(t *testing.T) {
	in := Inputs{Price: 1000, LaborMinutes: 1, HourlyWage: 60, MakerMinutes: []int64{1}}
	for name, c := range map[string]struct {
		in     Inputs
		q, fee int64
	}{
		"no makers":          {Inputs{Price: 1000, LaborMinutes: 1}, 1, 0},
		"makers don't add":   {Inputs{Price: 1000, LaborMinutes: 2, MakerMinutes: []int64{1}}, 1, 0},
		"zero quantity":      {in, 0, 0},
		"quantity too large": {in, MaxQuantity + 1, 0},
		"negative fee":       {in, 1, -1},
	} {
		if _, err := Book(c.in, c.q, c.fee); !errors.Is(err, ErrInvalidInputs) {
			t.Errorf("%s: err %v, want ErrInvalidInputs", name, err)
		}
	}
}

func TestApportionFee(t *testing.T) {
	got, err := ApportionFee(100, []int64{500, 500, 500})
	if err != nil || !slices.Equal(got, []int64{33, 33, 34}) {
		t.Fatalf("got %v, %v", got, err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 5000 {
		amounts := make([]int64, 1+r.IntN(50))
		var total int64
		for j := range amounts {
			amounts[j] = 1 + r.Int64N(MaxAmount)
			total += amounts[j]
		}
		fee := r.Int64N(total + 1)
		got, err := ApportionFee(fee, amounts)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, g := range got {
			if g < 0 {
				t.Fatalf("case %d: negative share %v", i, got)
			}
			sum += g
		}
		if sum != fee {
			t.Fatalf("case %d: shares sum to %d, not %d", i, sum, fee)
		}
	}
	for _, bad := range [][]int64{{}, {0}, {-1, 2}} {
		if _, err := ApportionFee(1, bad); !errors.Is(err, ErrInvalidInputs) {
			t.Errorf("amounts %v: err %v", bad, err)
		}
	}
	if got, err := ApportionFee(5, []int64{1, 1}); err != nil || !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("a fee above the lines' total: %v, %v", got, err)
	}
}
