package audit

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// ImpactRow is the figures of one province, district and gender: never
// an artisan's name or id.
type ImpactRow struct {
	Province     models.Province
	District     string
	Gender       string // "undisclosed" when not recorded
	Artisans     int    // with earnings or work in the period
	WithHours    int
	WithoutHours int
	Minutes      int64
	Earned       int64 // by all of them
	// HourlyEarnings is the earnings of those with hours × 60 ÷ their
	// minutes (SDG 8.5.1 style); RatioBPS compares it with the province's
	// benchmark.
	HourlyEarnings int64
	Benchmark      int64
	RatioBPS       int64
}

// Impact is the network's figures over a period.
type Impact struct {
	Period                Period
	Province              string
	Currency              string
	ActiveGroups          int
	ActiveArtisans        int
	WithoutHours          int
	PaidToArtisans        int64 // payouts booked in the period
	EarnedByArtisans      int64
	MedianArtisanShareBPS int64 // of the sale lines booked in the period
	HourlyEarnings        int64 // over every artisan with hours
	Rows                  []ImpactRow
	LedgerVerified        bool
	Confirmation          Confirmation // of the payouts made in the period by the groups in scope
}

// Impact computes the network's impact figures for a period, optionally
// for one province. Auditors and admins only. Errors: forbidden,
// bad_request (period or province), validation_failed (from after to).
func (s *Service) Impact(ctx context.Context, actor services.Actor, rawFrom, rawTo, province string) (Impact, error) {
	if !actor.Staff() {
		return Impact{}, services.Forbidden("only auditors and admins see the impact report")
	}
	if province != "" && !models.Province(province).Valid() {
		return Impact{}, services.BadRequest("province %q is not one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad", province)
	}
	from, to, err := ledger.Period(rawFrom, rawTo)
	if err != nil {
		return Impact{}, err
	}
	db := s.db.WithContext(ctx)
	out := Impact{Period: Period{from, to}, Province: province, Currency: s.opt.Currency}
	q := db.Model(&models.Group{}).Where("status = ?", models.GroupVerified)
	if province != "" {
		q = q.Where("province = ?", province)
	}
	var gs []models.Group
	if err := q.Find(&gs).Error; err != nil {
		return out, err
	}
	ids := make([]uuid.UUID, len(gs))
	groupOf := map[uuid.UUID]models.Group{}
	for i, g := range gs {
		ids[i], groupOf[g.ID] = g.ID, g
	}
	ps, err := s.postings(db, ids, out.Period)
	if err != nil {
		return out, err
	}
	f, err := add(ps)
	if err != nil {
		return out, err
	}
	active := map[uuid.UUID]bool{}
	for _, p := range ps {
		active[*p.GroupID] = true
	}
	out.ActiveGroups = len(active)
	if out.Confirmation, err = s.confirmation(db, ids, out.Period); err != nil {
		return out, err
	}
	out.MedianArtisanShareBPS = median(f.shares)

	var artisans []models.Artisan
	if err := db.Select("id, group_id, district, gender").Where("group_id IN ?", ids).Find(&artisans).Error; err != nil {
		return out, err
	}
	type key struct {
		province models.Province
		district string
		gender   string
	}
	rows := map[key]*ImpactRow{}
	bench := map[models.Province]int64{}
	var allMinutes, allEarnedWithHours int64
	for _, a := range artisans {
		earned, minutes, paid := f.earned[a.ID], f.minutes[a.ID], f.paid[a.ID]
		out.PaidToArtisans += paid
		if earned == 0 && minutes == 0 && paid == 0 {
			continue
		}
		g := groupOf[a.GroupID]
		gender := "undisclosed"
		if a.Gender != nil && *a.Gender != "" {
			gender = *a.Gender
		}
		k := key{g.Province, a.District, gender}
		r := rows[k]
		if r == nil {
			r = &ImpactRow{Province: g.Province, District: a.District, Gender: gender}
			rows[k] = r
			if _, ok := bench[g.Province]; !ok {
				b, err := catalog.Benchmark(db, g.Province)
				if err != nil {
					return out, err
				}
				if b.Currency == s.opt.Currency {
					bench[g.Province] = b.Hourly
				} else {
					bench[g.Province] = 0 // no benchmark in the report's currency: no ratio
				}
			}
			r.Benchmark = bench[g.Province]
		}
		out.ActiveArtisans++
		out.EarnedByArtisans += earned
		r.Artisans++
		r.Earned += earned
		if minutes > 0 {
			r.WithHours++
			r.Minutes += minutes
			r.HourlyEarnings += earned // the sum until divided below
			allMinutes += minutes
			allEarnedWithHours += earned
		} else {
			r.WithoutHours++
			out.WithoutHours++
		}
	}
	for _, r := range rows {
		if r.Minutes > 0 {
			r.HourlyEarnings = r.HourlyEarnings * 60 / r.Minutes
			r.RatioBPS = pricing.WageRatioBPS(r.HourlyEarnings, r.Benchmark)
		} else {
			r.HourlyEarnings = 0
		}
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if a.Province != b.Province {
			return a.Province < b.Province
		}
		if a.District != b.District {
			return a.District < b.District
		}
		return a.Gender < b.Gender
	})
	if allMinutes > 0 {
		out.HourlyEarnings = allEarnedWithHours * 60 / allMinutes
	}
	v, err := s.opt.Ledger.Verify(ctx)
	out.LedgerVerified = err == nil && v.OK
	return out, err
}
