package fairs

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

// A sale takes the version in force when it was recorded: the latest from
// at or before then, or the earliest known when it was recorded before all.
func TestVersionInForceAt(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 5, 0, 0, 0, time.UTC)
	vs := []models.FairPrice{{EffectiveFrom: t0, Price: 300000}, {EffectiveFrom: t0.Add(time.Hour), Price: 350000},
		{EffectiveFrom: t0.Add(3 * time.Hour), Price: 320000}}
	for _, c := range []struct {
		at   time.Time
		want int64
	}{
		{t0.Add(-time.Hour), 300000},
		{t0, 300000},
		{t0.Add(59 * time.Minute), 300000},
		{t0.Add(time.Hour), 350000},
		{t0.Add(2 * time.Hour), 350000},
		{t0.Add(3 * time.Hour), 320000},
		{t0.Add(48 * time.Hour), 320000},
	} {
		if got := at(vs, c.at).Price; got != c.want {
			t.Errorf("at %s: %d, want %d", c.at.Format(time.TimeOnly), got, c.want)
		}
	}
}

// A resent sale hashes the same; any change of what the client said about
// it does not.
func TestContentHash(t *testing.T) {
	ev := uuid.New()
	base := sale{id: uuid.New(), groupID: uuid.New(), recordedAt: time.Date(2026, 11, 20, 7, 41, 9, 123456000, time.UTC),
		payment: models.FairPayCash, items: []item{{productID: uuid.New(), quantity: 2}, {productID: uuid.New(), quantity: 1}}}
	h := contentHash(ev, base)
	if !bytes.Equal(h, contentHash(ev, base)) {
		t.Fatal("the same sale hashes differently")
	}
	changes := map[string]func(s *sale){
		"time":     func(s *sale) { s.recordedAt = s.recordedAt.Add(time.Microsecond) },
		"payment":  func(s *sale) { s.payment = models.FairPayJazzCash },
		"quantity": func(s *sale) { s.items = []item{{productID: s.items[0].productID, quantity: 3}, s.items[1]} },
		"product":  func(s *sale) { s.items = []item{{productID: uuid.New(), quantity: 2}, s.items[1]} },
		"an item":  func(s *sale) { s.items = s.items[:1] },
		"group":    func(s *sale) { s.groupID = uuid.New() },
	}
	for name, change := range changes {
		s := base
		s.items = append([]item(nil), base.items...)
		change(&s)
		if bytes.Equal(h, contentHash(ev, s)) {
			t.Errorf("a change of %s hashes the same", name)
		}
	}
	if bytes.Equal(h, contentHash(uuid.New(), base)) {
		t.Error("another event's sale hashes the same")
	}
}
