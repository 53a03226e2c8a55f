package models_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/karigar/karigar/models"
)

func TestAllocateInt(t *testing.T) {
	tests := []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"even split", 300, []int64{1, 1, 1}, []int64{100, 100, 100}},
		{"remainder to the largest remainders", 100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{"ties go to the earlier part", 2, []int64{1, 1, 1}, []int64{1, 1, 0}},
		{"proportional", 1000, []int64{240, 120, 40}, []int64{600, 300, 100}},
		{"largest remainder wins over order", 10, []int64{1, 2, 4}, []int64{1, 3, 6}},
		{"zero weight gets nothing", 7, []int64{0, 1}, []int64{0, 7}},
		{"zero total", 0, []int64{3, 5}, []int64{0, 0}},
		{"no overflow on large values", 9_000_000_000_000_000_000, []int64{9_000_000_000_000_000_000, 1}, []int64{8_999_999_999_999_999_999, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := models.AllocateInt(tt.total, tt.weights)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("AllocateInt(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
			}
		})
	}
}

func TestAllocateIntRejectsBadInput(t *testing.T) {
	for name, in := range map[string]struct {
		total   int64
		weights []int64
	}{
		"negative total":  {-1, []int64{1}},
		"no weights":      {1, nil},
		"negative weight": {1, []int64{2, -1}},
		"all zero":        {1, []int64{0, 0}},
	} {
		if _, err := models.AllocateInt(in.total, in.weights); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// The parts of every allocation sum to the total, are never negative, differ
// from the exact share by less than one unit, and are the same every time.
func TestAllocateIntProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		total := r.Int64N(10_000_000)
		weights := make([]int64, 1+r.IntN(12))
		var sum int64
		for j := range weights {
			weights[j] = r.Int64N(100_000)
			sum += weights[j]
		}
		if sum == 0 {
			weights[0], sum = 1, 1
		}
		got, err := models.AllocateInt(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		var s int64
		for j, p := range got {
			if p < 0 {
				t.Fatalf("negative part %d in %v", p, got)
			}
			exactFloor := total * weights[j] / sum // fits: total < 1e7, weight < 1e5
			if p != exactFloor && p != exactFloor+1 {
				t.Fatalf("part %d = %d, exact share floor %d (total %d weights %v)", j, p, exactFloor, total, weights)
			}
			s += p
		}
		if s != total {
			t.Fatalf("parts %v sum to %d, want %d", got, s, total)
		}
		again, _ := models.AllocateInt(total, weights)
		if !slices.Equal(got, again) {
			t.Fatalf("not deterministic: %v then %v", got, again)
		}
	}
}

func TestMoneyAllocateKeepsCurrency(t *testing.T) {
	parts, err := models.NewMoney(1001, "PKR").Allocate([]int64{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	if parts[0] != models.NewMoney(501, "PKR") || parts[1] != models.NewMoney(500, "PKR") {
		t.Fatalf("got %v", parts)
	}
	if _, err := models.NewMoney(1, "PKR").Add(models.NewMoney(1, "USD")); err != models.ErrCurrencyMismatch {
		t.Fatalf("Add across currencies: %v", err)
	}
}

func TestMoneyStringIsForPeople(t *testing.T) {
	for _, c := range []struct {
		m    models.Money
		want string
	}{
		{models.NewMoney(28159, "PKR"), "Rs 281.59"},
		{models.NewMoney(245000, "PKR"), "Rs 2,450.00"},
		{models.NewMoney(5, "PKR"), "Rs 0.05"},
		{models.NewMoney(0, "PKR"), "Rs 0.00"},
		{models.NewMoney(-15000, "PKR"), "-Rs 150.00"},
		{models.NewMoney(123456789012, "PKR"), "Rs 1,234,567,890.12"},
		{models.NewMoney(1250, "USD"), "USD 12.50"},
		{models.NewMoney(-9223372036854775808, "PKR"), "-Rs 92,233,720,368,547,758.08"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("%d %s: %q, want %q", c.m.Amount, c.m.Currency, got, c.want)
		}
	}
}
