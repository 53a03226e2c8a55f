package pricing

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// The worked example of the contract (section 5), computed by hand.
func TestComputeContractExample(t *testing.T) {
	s, err := Compute(Inputs{Price: 300000, Materials: 50000, Packaging: 5000, LaborMinutes: 240, HourlyWage: 25000,
		PlatformFeeBPS: 1000, ProcessingBPS: 300, CollectiveFundBPS: 2000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{ArtisanLabor: 100000, Materials: 50000, Packaging: 5000, PlatformFee: 30000,
		PaymentProcessing: 9000, CollectiveFund: 21200, GroupMargin: 84800}
	for kind, amount := range want {
		if got := s.Amount(kind); got != amount {
			t.Errorf("%s = %d, want %d", kind, got, amount)
		}
	}
	if s.ArtisanShareBPS != 6160 || s.EffectiveHourlyWage != 46200 {
		t.Errorf("share %d bps, hourly %d; want 6160 and 46200", s.ArtisanShareBPS, s.EffectiveHourlyWage)
	}
	if r := WageRatioBPS(s.EffectiveHourlyWage, 19230); r != 24024 {
		t.Errorf("ratio %d, want 24024", r)
	}
}

func TestComputeRoundsEachLineDown(t *testing.T) {
	// 7 minutes at 100/h is 11.67 → 11; 1% and 3% of 999 are 9.99 → 9 and 29.97 → 29;
	// margin 999-11-0-0-9-29 = 950; 15% of it is 142.5 → 142; group margin 808.
	s, err := Compute(Inputs{Price: 999, LaborMinutes: 7, HourlyWage: 100, PlatformFeeBPS: 100, ProcessingBPS: 300,
		CollectiveFundBPS: 1500})
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{}
	for _, l := range s.Lines {
		got = append(got, l.Amount)
	}
	want := []int64{11, 0, 0, 142, 9, 29, 808}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("lines %v, want %v", got, want)
		}
	}
	// (11+808)×10000÷999 = 8198.19…; (11+808)×60÷7 = 7020
	if s.ArtisanShareBPS != 8198 || s.EffectiveHourlyWage != 7020 {
		t.Fatalf("share %d, hourly %d", s.ArtisanShareBPS, s.EffectiveHourlyWage)
	}
}

func TestComputeShortfall(t *testing.T) {
	// Costs 1000 + fees of 10% and 3% of the price, each rounded down: at
	// 1148 the fees are 114 + 34 = 148 and the margin 0; at 1147 they are
	// 114 + 34 again and the margin -1. So the price is 148 short.
	in := Inputs{Price: 1000, Materials: 1000, LaborMinutes: 1, PlatformFeeBPS: 1000, ProcessingBPS: 300}
	_, err := Compute(in)
	var short *ShortfallError
	if !errors.As(err, &short) {
		t.Fatalf("err %v, want a shortfall", err)
	}
	if short.Shortfall != 148 {
		t.Fatalf("shortfall %d, want 148", short.Shortfall)
	}
	in.Price += short.Shortfall
	if _, err := Compute(in); err != nil {
		t.Fatalf("price + shortfall still refused: %v", err)
	}
	in.Price--
	if _, err := Compute(in); !errors.As(err, &short) {
		t.Fatalf("one paisa less than the covering price was accepted")
	}
}

func TestComputeRefusesOutOfRange(t *testing.T) {
	ok := Inputs{Price: 1000, LaborMinutes: 1, HourlyWage: 60}
	for name, in := range map[string]Inputs{
		"zero price":      {Price: 0, LaborMinutes: 1},
		"no labour":       {Price: 1000},
		"negative cost":   {Price: 1000, LaborMinutes: 1, Materials: -1},
		"fees over 100%":  {Price: 1000, LaborMinutes: 1, PlatformFeeBPS: 6000, ProcessingBPS: 5000},
		"price too large": {Price: MaxAmount + 1, LaborMinutes: 1},
		"rate over 100%":  {Price: 1000, LaborMinutes: 1, CollectiveFundBPS: 10001},
	} {
		if _, err := Compute(in); !errors.Is(err, ErrInvalidInputs) {
			t.Errorf("%s: err %v, want ErrInvalidInputs", name, err)
		}
	}
	if _, err := Compute(ok); err != nil {
		t.Fatal(err)
	}
}

// Thousands of random listings: the lines always sum to the price and none
// is negative; a refused price is short by exactly what its error says.
func TestComputeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		in := Inputs{
			Price:             1 + r.Int64N(5_000_000),
			Materials:         r.Int64N(1_000_000),
			Packaging:         r.Int64N(100_000),
			LaborMinutes:      1 + r.Int64N(10_000),
			HourlyWage:        r.Int64N(100_000),
			PlatformFeeBPS:    r.Int64N(3000),
			ProcessingBPS:     r.Int64N(1000),
			CollectiveFundBPS: r.Int64N(10001),
		}
		s, err := Compute(in)
		var short *ShortfallError
		if errors.As(err, &short) {
			if short.Shortfall <= 0 {
				t.Fatalf("case %d %+v: shortfall %d", i, in, short.Shortfall)
			}
			covered := in
			covered.Price += short.Shortfall
			if _, err := Compute(covered); err != nil {
				t.Fatalf("case %d %+v: price + shortfall %d still refused: %v", i, in, short.Shortfall, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("case %d %+v: %v", i, in, err)
		}
		var sum int64
		for _, l := range s.Lines {
			if l.Amount < 0 || l.BPS < 0 {
				t.Fatalf("case %d %+v: negative line %+v", i, in, l)
			}
			sum += l.Amount
		}
		if sum != in.Price {
			t.Fatalf("case %d %+v: lines sum to %d, not %d", i, in, sum, in.Price)
		}
		if s.ArtisanShareBPS < 0 || s.ArtisanShareBPS > 10000 {
			t.Fatalf("case %d: share %d bps", i, s.ArtisanShareBPS)
		}
	}
}
