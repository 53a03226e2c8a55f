package statements

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

func sample() Statement {
	m := func(a int64) models.Money { return models.NewMoney(a, "PKR") }
	return Statement{Version: 1, Subject: Subject{Kind: SubjectArtisan, ID: uuid.MustParse("01970b9f-1a2b-7c3d-8e4f-5a6b7c8d9e0f"),
		Name: "Shazia Bibi", GroupID: uuid.MustParse("01970b9e-4f6a-7c3d-9a1b-2c3d4e5f6a7b"), GroupName: "Multan Blue Pottery Women",
		District: "Multan", Province: "punjab"},
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("PKT", 5*3600)), To: time.Date(2026, 2, 28, 19, 0, 0, 0, time.UTC),
		Months: []Month{{"2026-01", Figures{m(300000), m(100000), m(50000), 400}}, {"2026-02", Figures{m(0), m(0), m(50000), 0}}},
		Totals: Figures{m(300000), m(100000), m(100000), 400}, IssuedAt: time.Date(2026, 3, 1, 9, 30, 0, 123000, time.UTC)}
}

// Every value of a statement is in its encoding: changing any one changes
// the signed message, and the same values always give the same bytes.
func TestEncodingCoversEveryValue(t *testing.T) {
	base := Encode(sample())
	if !bytes.Equal(base, Encode(sample())) {
		t.Fatal("the encoding is not deterministic")
	}
	if !bytes.HasPrefix(base, append([]byte{byte(len(Tag))}, Tag...)) {
		t.Fatalf("the encoding does not begin with the length-prefixed tag: %q", base[:40])
	}
	for name, change := range map[string]func(*Statement){
		"kind":           func(s *Statement) { s.Subject.Kind = SubjectGroup },
		"id":             func(s *Statement) { s.Subject.ID = uuid.New() },
		"name":           func(s *Statement) { s.Subject.Name = "Shazia Bib" },
		"group id":       func(s *Statement) { s.Subject.GroupID = uuid.New() },
		"group name":     func(s *Statement) { s.Subject.GroupName += "." },
		"district":       func(s *Statement) { s.Subject.District = "Lahore" },
		"province":       func(s *Statement) { s.Subject.Province = "sindh" },
		"from":           func(s *Statement) { s.From = s.From.Add(time.Second) },
		"to":             func(s *Statement) { s.To = s.To.Add(time.Nanosecond) },
		"a month":        func(s *Statement) { s.Months[1].Month = "2026-03" },
		"a month's sale": func(s *Statement) { s.Months[0].Sales.Amount++ },
		"earned":         func(s *Statement) { s.Months[0].Earned.Amount = 1000000 },
		"paid":           func(s *Statement) { s.Months[1].Paid.Amount-- },
		"hours":          func(s *Statement) { s.Months[0].Hours = 401 },
		"currency":       func(s *Statement) { s.Months[0].Paid.Currency = "USD" },
		"a month less":   func(s *Statement) { s.Months = s.Months[:1] },
		"total sales":    func(s *Statement) { s.Totals.Sales.Amount = 1 },
		"total hours":    func(s *Statement) { s.Totals.Hours = 0 },
		"issued at":      func(s *Statement) { s.IssuedAt = s.IssuedAt.Add(time.Microsecond) },
		// Values moved between neighbouring fields change it too: each is
		// length-prefixed.
		"name moved": func(s *Statement) { s.Subject.Name, s.Subject.GroupName = "Shazia Bibi Multan", "Blue Pottery Women" },
	} {
		s := sample()
		s.Months = append([]Month{}, s.Months...)
		change(&s)
		if bytes.Equal(Encode(s), base) {
			t.Errorf("changing the %s leaves the encoding as it was", name)
		}
	}
	// The same instant written in another zone is the same value.
	s := sample()
	s.From = s.From.UTC()
	if !bytes.Equal(Encode(s), base) {
		t.Error("the zone a time was written in changes the encoding")
	}
}

func TestHours(t *testing.T) {
	for in, want := range map[string]int64{"12.50": 1250, "12.5": 1250, "12": 1200, "0.05": 5, "-0.05": -5, "-3": -300, "0": 0} {
		got, err := ParseHours(in)
		if err != nil || got != want {
			t.Errorf("ParseHours(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1.234", "1e3", "12.", ".5", "-", "1,5", "abc", "+1"} {
		if _, err := ParseHours(bad); err == nil {
			t.Errorf("ParseHours(%q) accepted", bad)
		}
	}
	for in, want := range map[int64]string{1250: "12.50", 5: "0.05", -5: "-0.05", 0: "0.00", 100: "1.00"} {
		if got := FormatHours(in); got != want {
			t.Errorf("FormatHours(%d) = %q, want %q", in, got, want)
		}
	}
}
