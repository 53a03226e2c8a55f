package audit

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/ledger"
)

// The reports' one reading of the ledger (postings, then add), offered to
// the other services that need an artisan's or a group's figures: the
// inclusion statistics (services/stats) and the income statements
// (services/statements). They read earnings, payouts and hours here rather
// than from the ledger's rows themselves, so that every figure the platform
// publishes about earnings is computed one way.

// ArtisanFigures is what the ledger says of one artisan over a period.
type ArtisanFigures struct {
	Earned  int64 // credited to her payable: labour, her parts of distributions, less refunds
	Paid    int64 // paid out to her
	Minutes int64 // labour recorded on the units sold, less the units refunded
	Sales   int64 // her part of the goods sold (by labour minutes), less refunds
}

// Figures is what the postings of a set of groups add up to over a period.
type Figures struct {
	Sales    int64 // goods sold, less refunds
	Artisans map[uuid.UUID]ArtisanFigures
}

// Month is the figures of one calendar month; Start is its first instant
// within the period asked for.
type Month struct {
	Start time.Time
	Figures
}

// Figures adds up the period's postings of the groups' chains (an empty
// list: none). Errors: the database's, or a sale whose recorded work
// cannot be read (a bug).
func (s *Service) Figures(ctx context.Context, groupIDs []uuid.UUID, p Period) (Figures, error) {
	if groupIDs == nil {
		groupIDs = []uuid.UUID{} // never "every group" by accident
	}
	ps, err := s.postings(s.db.WithContext(ctx), groupIDs, p)
	if err != nil {
		return Figures{}, err
	}
	f, err := add(ps)
	return f.export(), err
}

// MonthlyFigures is Figures for each calendar month in loc that [from, to)
// covers, in order, from one reading of the postings. Errors: as Figures.
func (s *Service) MonthlyFigures(ctx context.Context, groupIDs []uuid.UUID, from, to time.Time, loc *time.Location) ([]Month, error) {
	if groupIDs == nil {
		groupIDs = []uuid.UUID{}
	}
	ps, err := s.postings(s.db.WithContext(ctx), groupIDs, Period{From: &from, To: &to})
	if err != nil {
		return nil, err
	}
	var out []Month
	i := 0
	for start := from; start.Before(to); {
		l := start.In(loc)
		end := time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, loc).UTC()
		if end.After(to) {
			end = to
		}
		j := i
		for j < len(ps) && ps[j].OccurredAt.Before(end) {
			j++
		}
		f, err := add(ps[i:j])
		if err != nil {
			return nil, err
		}
		out = append(out, Month{Start: start, Figures: f.export()})
		i, start = j, end
	}
	return out, nil
}

func (f figures) export() Figures {
	out := Figures{Sales: f.sales - f.refunds, Artisans: map[uuid.UUID]ArtisanFigures{}}
	touch := func(id uuid.UUID, fn func(*ArtisanFigures)) {
		a := out.Artisans[id]
		fn(&a)
		out.Artisans[id] = a
	}
	for id, v := range f.earned {
		touch(id, func(a *ArtisanFigures) { a.Earned = v })
	}
	for id, v := range f.paid {
		touch(id, func(a *ArtisanFigures) { a.Paid = v })
	}
	for id, v := range f.minutes {
		touch(id, func(a *ArtisanFigures) { a.Minutes = v })
	}
	for id, v := range f.sold {
		touch(id, func(a *ArtisanFigures) { a.Sales = v })
	}
	return out
}

// attribute shares a sale line's goods (negative for a refund) among its
// makers by their labour minutes, or their units when no minutes were
// recorded, or equally, with the largest-remainder rule, so that the makers'
// parts add up to the line.
func (f *figures) attribute(goods int64, w ledger.Work) error {
	if goods == 0 || len(w.Makers) == 0 {
		return nil
	}
	weights := make([]int64, len(w.Makers))
	var minutes, units int64
	for _, m := range w.Makers {
		minutes += abs(m.Minutes)
		units += abs(m.Units)
	}
	for i, m := range w.Makers {
		switch {
		case minutes > 0:
			weights[i] = abs(m.Minutes)
		case units > 0:
			weights[i] = abs(m.Units)
		default:
			weights[i] = 1
		}
	}
	parts, err := models.AllocateInt(abs(goods), weights)
	if err != nil {
		return err
	}
	for i, m := range w.Makers {
		if goods < 0 {
			parts[i] = -parts[i]
		}
		f.sold[m.ArtisanID] += parts[i]
	}
	return nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
