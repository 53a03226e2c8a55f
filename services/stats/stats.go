// Package stats publishes the network's earnings statistics (contract
// section 15, SDG 8.5.1: average hourly earnings by sex, age, disability and
// place) in a form that protects the people counted: a cell that is too
// small, spans too few groups or is dominated by one group is suppressed,
// and so are further cells until no suppressed figure can be worked out from
// what is published (suppress.go).
//
// The figures come from the ledger through services/audit (the impact
// report's one reading of it); what may be known of each artisan comes from
// services/groups, which applies her consent: only artisans who consented
// count in the age and disability tables.
package stats

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/audit"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
)

// DefaultMinCell is the fewest workers a published cell may have unless
// configured otherwise (KARIGAR_STATS_MIN_CELL).
const DefaultMinCell = 5

// LeastMinCell is the lowest minimum a deployment may configure: a cell of
// one or two people is a person.
const LeastMinCell = 3

// Options configure a Service.
type Options struct {
	Currency string
	Audit    *audit.Service
	MinCell  int // 0: DefaultMinCell
	Now      func() time.Time
	// Location is where a year begins, for the age bands; nil: Asia/Karachi.
	Location *time.Location
}

// Service computes the earnings statistics.
type Service struct {
	db    *gorm.DB
	opt   Options
	rules Rules
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if !models.ValidCurrency(opt.Currency) || opt.Audit == nil {
		return nil, errors.New("stats: a currency and the audit service are required")
	}
	if opt.MinCell == 0 {
		opt.MinCell = DefaultMinCell
	}
	if opt.MinCell < LeastMinCell {
		return nil, errors.New("stats: the minimum cell must be at least 3 workers")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = Karachi
	}
	r := DefaultRules
	r.MinWorkers = opt.MinCell
	return &Service{db: db, opt: opt, rules: r}, nil
}

// Karachi is Pakistan's time (models.Karachi).
var Karachi = models.Karachi

// Query is what the statistics are asked for: a period (RFC 3339, either
// end open), one or two dimensions (comma-separated), and whether it is the
// public variant.
type Query struct {
	From, To string
	By       string
	Public   bool
}

// Result is one table of the statistics.
type Result struct {
	Period   audit.Period
	By       []Dimension
	Currency string
	Rules    Rules
	// Consenting says the table counts only the workers who consented
	// (a table by age band or disability).
	Consenting bool
	Cells      []Cell
	Totals     Cell
}

// publicDims are the dimensions anyone may ask for.
var publicDims = []Dimension{Gender, Province}

// Earnings computes one table of the earnings statistics: auditors and
// admins may divide by any one or two dimensions; the public variant
// (anyone) by gender and province. Errors: forbidden, bad_request (by, or
// the period), validation_failed (from after to).
func (s *Service) Earnings(ctx context.Context, actor services.Actor, q Query) (Result, error) {
	if !q.Public && !actor.Staff() {
		return Result{}, services.Forbidden("only auditors and admins see the earnings statistics by every dimension; anyone may see /stats/earnings/public")
	}
	by, err := parseBy(q.By, q.Public)
	if err != nil {
		return Result{}, err
	}
	from, to, err := ledger.Period(q.From, q.To)
	if err != nil {
		return Result{}, err
	}
	out := Result{Period: audit.Period{From: from, To: to}, By: by, Currency: s.opt.Currency, Rules: s.rules,
		Consenting: slices.Contains(by, AgeBand) || slices.Contains(by, Disability)}
	db := s.db.WithContext(ctx)
	members, groupIDs, err := groups.StatisticsPopulation(db)
	if err != nil {
		return out, err
	}
	figures, err := s.opt.Audit.Figures(ctx, groupIDs, out.Period)
	if err != nil {
		return out, err
	}
	year := s.opt.Now().In(s.opt.Location).Year()
	if to != nil {
		year = to.Add(-time.Nanosecond).In(s.opt.Location).Year()
	}
	domains, names := domainsOf(members)
	bench := map[models.Province]int64{}
	var ws []Worker
	for _, m := range members {
		f := figures.Artisans[m.ArtisanID]
		if f.Earned == 0 && f.Minutes == 0 {
			continue // no earnings and no work in the period: not a worker of it
		}
		b, ok := bench[m.Province]
		if !ok {
			wb, err := catalog.Benchmark(db, m.Province)
			if err != nil {
				return out, err
			}
			if wb.Currency == s.opt.Currency {
				b = wb.Hourly
			}
			bench[m.Province] = b
		}
		w := Worker{Group: m.GroupID, Gender: m.Gender, Province: string(m.Province),
			District: DistrictKey(string(m.Province), m.District), Consenting: m.Consenting,
			AgeBand: NotRecorded, Disability: NotRecorded, Earned: f.Earned, Minutes: f.Minutes, Benchmark: b}
		if m.BirthYear != nil {
			w.AgeBand = Band(*m.BirthYear, year)
		}
		if m.Disabled != nil {
			w.Disability = WithoutDisability
			if *m.Disabled {
				w.Disability = WithDisability
			}
		}
		ws = append(ws, w)
	}
	l := Build(ws, domains, s.rules)
	out.Cells = l.Table(out.Consenting, by)
	out.Totals = l.Table(out.Consenting, nil)[0]
	for _, c := range out.Cells {
		if k, ok := c.Key[District]; ok {
			c.Key[District] = names[k]
		}
	}
	return out, nil
}

// parseBy reads the dimensions asked for. Errors: bad_request.
func parseBy(raw string, public bool) ([]Dimension, error) {
	allowed := dims
	if public {
		allowed = publicDims
	}
	names := func() string {
		s := make([]string, len(allowed))
		for i, d := range allowed {
			s[i] = string(d)
		}
		return strings.Join(s, ", ")
	}
	var out []Dimension
	for _, p := range strings.Split(raw, ",") {
		d := Dimension(strings.TrimSpace(p))
		switch {
		case d == "" && raw == "":
			return nil, services.BadRequest("by is required: one or two of %s, separated by a comma", names())
		case !slices.Contains(allowed, d):
			return nil, services.BadRequest("by takes one or two of %s, not %q", names(), string(d))
		case slices.Contains(out, d):
			return nil, services.BadRequest("by names %s twice", string(d))
		}
		out = append(out, d)
	}
	if len(out) > 2 {
		return nil, services.BadRequest("by takes one or two dimensions, not %d", len(out))
	}
	// Listed in the key's order, whatever order they were asked in.
	slices.SortFunc(out, func(a, b Dimension) int { return dimIndex(a) - dimIndex(b) })
	return out, nil
}

// domainsOf is every value of each dimension, from the whole population
// (not only the period's workers, so that a district's presence says
// nothing about the period), and a name for each district key: the first
// of its spellings in sort order.
func domainsOf(ms []groups.Member) (Domains, map[string]string) {
	d := Domains{Genders: models.Genders, DistrictProvince: map[string]string{}}
	names := map[string]string{}
	for _, m := range ms {
		k := DistrictKey(string(m.Province), m.District)
		name := strings.TrimSpace(m.District)
		if have, ok := names[k]; !ok || name < have {
			names[k] = name
		}
		d.DistrictProvince[k] = string(m.Province)
	}
	for k := range names {
		d.Districts = append(d.Districts, k)
	}
	// The provinces the network works in: another would be a cell that
	// the districts' cells show to be empty, whatever its status.
	for _, p := range models.Provinces {
		if slices.Contains(slices.Collect(maps.Values(d.DistrictProvince)), string(p.Slug)) {
			d.Provinces = append(d.Provinces, string(p.Slug))
		}
	}
	rank := func(p string) int {
		return slices.IndexFunc(models.Provinces, func(q struct {
			Slug models.Province
			Name string
		}) bool {
			return string(q.Slug) == p
		})
	}
	slices.SortFunc(d.Districts, func(a, b string) int {
		if pa, pb := rank(d.DistrictProvince[a]), rank(d.DistrictProvince[b]); pa != pb {
			return pa - pb
		}
		return strings.Compare(a, b)
	})
	return d, names
}
