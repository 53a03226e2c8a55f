package audit

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/pricing"
)

// ArtisanLine is one artisan's figures in a group report.
type ArtisanLine struct {
	ArtisanID    uuid.UUID
	DisplayName  string
	District     string
	Minutes      int64 // labour of the units sold in the period, less refunds
	Earned       int64 // labour, distributions, less refunds
	Paid         int64
	Acknowledged int64 // of the payouts made in the period, those she confirmed
	Balance      int64 // at the period's end
	// HourlyWage is Earned × 60 ÷ Minutes; only for an artisan with logged
	// hours (HasHours), and MeetsBenchmark compares it with the benchmark.
	HasHours       bool
	HourlyWage     int64
	MeetsBenchmark bool
}

// Finding is something an auditor should check.
type Finding struct {
	Kind        string // disputed_payout, unconfirmed_payout, below_benchmark
	ArtisanID   uuid.UUID
	DisplayName string
	PayoutID    *uuid.UUID
	Amount      *int64
	Since       *time.Time
	Check       string
}

// GroupReport is a group's books over a period.
type GroupReport struct {
	Group                   models.Group
	Period                  Period
	Currency                string
	Sales, Shipping         int64 // goods sold (less refunds) and shipping, booked in the period
	Refunds                 int64 // goods refunded in the period
	Orders                  int   // orders with a sale booked in the period
	Units                   int64
	CollectiveFund          int64
	PlatformFee             int64
	ProcessingFee           int64
	Artisans                []ArtisanLine
	Benchmark               models.WageBenchmark
	WithHours, WithoutHours int   // artisans with and without logged hours
	ComplianceBPS           int64 // of the artisans with hours, those at or above the benchmark
	Findings                []Finding
	LedgerVerified          bool
	Confirmation            Confirmation // of the payouts made in the period
}

// Confirmation is how many of a set of payouts their artisans answered
// themselves, by SMS.
type Confirmation struct {
	Payouts      int   // made in the period
	WithReceipt  int   // of them, those whose artisan was sent an SMS receipt
	Confirmed    int   // of them, those she confirmed herself (HAAN)
	Disputed     int   // of them, those she disputed (NAHI)
	ConfirmedBPS int64 // Confirmed of Payouts, in basis points (0 without payouts)
}

// confirmation counts the period's payouts of the given groups and their
// artisans' own answers, in one query.
func (s *Service) confirmation(db *gorm.DB, groupIDs []uuid.UUID, p Period) (Confirmation, error) {
	var c Confirmation
	if len(groupIDs) == 0 {
		return c, nil
	}
	q := db.Table("payouts p").Joins("LEFT JOIN receipts r ON r.payout_id = p.id").
		Select("COUNT(*) AS payouts, COUNT(r.id) AS with_receipt, COUNT(r.confirmed_at) AS confirmed, "+
			"COUNT(r.disputed_at) AS disputed").Where("p.group_id IN ?", groupIDs)
	if err := inPeriod(q, "p.created_at", p).Scan(&c).Error; err != nil {
		return c, err
	}
	if c.Payouts > 0 {
		c.ConfirmedBPS = int64(c.Confirmed) * 10000 / int64(c.Payouts)
	}
	return c, nil
}

// GroupReport computes a group's report for a period: every amount from the
// ledger's postings of the group's chain, the acknowledgements from the
// payouts, and LedgerVerified from the verification of the group's chain.
// Errors: forbidden, not_found, bad_request and validation_failed (period).
func (s *Service) GroupReport(ctx context.Context, actor services.Actor, groupID uuid.UUID, rawFrom, rawTo string) (GroupReport, error) {
	db := s.db.WithContext(ctx)
	g, err := groups.Readable(db, actor, groupID)
	if err != nil {
		return GroupReport{}, err
	}
	from, to, err := ledger.Period(rawFrom, rawTo)
	if err != nil {
		return GroupReport{}, err
	}
	r := GroupReport{Group: g, Period: Period{from, to}, Currency: s.opt.Currency}
	ps, err := s.postings(db, []uuid.UUID{groupID}, r.Period)
	if err != nil {
		return r, err
	}
	f, err := add(ps)
	if err != nil {
		return r, err
	}
	r.Sales, r.Shipping, r.Refunds, r.Orders, r.Units = f.sales, f.shipping, f.refunds, len(f.orders), f.units
	r.CollectiveFund, r.PlatformFee, r.ProcessingFee = f.fund, f.platformFee, f.processingFee
	if r.Benchmark, err = catalog.Benchmark(db, g.Province); err != nil {
		return r, err
	}

	var artisans []models.Artisan
	if err := db.Select("id, display_name, district").Where("group_id = ?", groupID).Order("display_name, id").
		Find(&artisans).Error; err != nil {
		return r, err
	}
	balances, err := s.balances(ctx, groupID, to)
	if err != nil {
		return r, err
	}
	acks, unconfirmed, err := s.payouts(ctx, groupID, r.Period)
	if err != nil {
		return r, err
	}
	if r.Confirmation, err = s.confirmation(db, []uuid.UUID{groupID}, r.Period); err != nil {
		return r, err
	}
	disputes, err := s.disputes(ctx, groupID, r.Period)
	if err != nil {
		return r, err
	}
	meeting := 0
	for _, a := range artisans {
		l := ArtisanLine{ArtisanID: a.ID, DisplayName: a.DisplayName, District: a.District, Minutes: f.minutes[a.ID],
			Earned: f.earned[a.ID], Paid: f.paid[a.ID], Acknowledged: acks[a.ID], Balance: balances[a.ID]}
		if l.Minutes > 0 {
			l.HasHours = true
			l.HourlyWage = l.Earned * 60 / l.Minutes
			// The catalogue's rule, so a report and a product page agree.
			l.MeetsBenchmark = r.Benchmark.Currency == r.Currency && pricing.WageRatioBPS(l.HourlyWage, r.Benchmark.Hourly) >= 10000
			r.WithHours++
			if l.MeetsBenchmark {
				meeting++
			} else {
				r.Findings = append(r.Findings, Finding{Kind: "below_benchmark", ArtisanID: a.ID, DisplayName: a.DisplayName,
					Check: fmt.Sprintf("earned %s an hour against the benchmark's %s: check the labour minutes declared for her products, their prices, and whether her group's margin was distributed",
						models.NewMoney(l.HourlyWage, r.Currency), models.NewMoney(r.Benchmark.Hourly, r.Currency))})
			}
		} else {
			r.WithoutHours++
		}
		r.Artisans = append(r.Artisans, l)
	}
	if r.WithHours > 0 {
		r.ComplianceBPS = int64(meeting) * 10000 / int64(r.WithHours)
	}
	names := map[uuid.UUID]string{}
	for _, a := range artisans {
		names[a.ID] = a.DisplayName
	}
	for _, p := range unconfirmed {
		id, amount, since := p.ID, p.Amount, p.CreatedAt.UTC()
		r.Findings = append(r.Findings, Finding{Kind: "unconfirmed_payout", ArtisanID: p.ArtisanID, DisplayName: names[p.ArtisanID],
			PayoutID: &id, Amount: &amount, Since: &since,
			Check: "paid by " + p.Method + " more than 14 days ago and not confirmed: ask the artisan herself whether it reached her"})
	}
	for _, d := range disputes {
		id, amount, since := d.ID, d.Amount, d.DisputedAt.UTC()
		check := "she answered NAHI to receipt " + d.Code + " by SMS: the payout by " + d.Method
		if d.Reference != "" {
			check += " (reference " + d.Reference + ")"
		}
		check += " did not reach her, she says. Ask her, and ask the manager for the bank or wallet record or the cash receipt"
		if d.AcknowledgedAs != nil && *d.AcknowledgedAs == models.AckManager {
			check += "; a manager had acknowledged it on her word"
		}
		r.Findings = append(r.Findings, Finding{Kind: "disputed_payout", ArtisanID: d.ArtisanID, DisplayName: names[d.ArtisanID],
			PayoutID: &id, Amount: &amount, Since: &since, Check: check})
	}
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].Kind < r.Findings[j].Kind })
	r.LedgerVerified, err = s.opt.Ledger.VerifyGroup(ctx, groupID)
	return r, err
}

// balances are the group's artisans' payables at the end of a period.
func (s *Service) balances(ctx context.Context, groupID uuid.UUID, to *time.Time) (map[uuid.UUID]int64, error) {
	q := s.db.WithContext(ctx).Table("ledger_postings p").Select("a.owner_id, SUM(p.amount) AS balance").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").
		Where("a.group_id = ? AND a.owner_kind = ? AND a.type = ? AND a.currency = ?", groupID, models.OwnerArtisan,
			ledger.TypePayable, s.opt.Currency).Group("a.owner_id")
	if to != nil {
		q = q.Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").Where("t.occurred_at < ?", *to)
	}
	var rows []struct {
		OwnerID uuid.UUID
		Balance int64
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[uuid.UUID]int64{}
	for _, r := range rows {
		out[r.OwnerID] = r.Balance
	}
	return out, nil
}

// dispute is a payout its artisan disputed by SMS.
type dispute struct {
	models.Payout
	Code       string
	DisputedAt time.Time
}

// disputes are the group's payouts that their artisans disputed, made or
// disputed in the period: a dispute of last month's payout is news in this
// month's report, and last month's report shows it too.
func (s *Service) disputes(ctx context.Context, groupID uuid.UUID, p Period) ([]dispute, error) {
	q := s.db.WithContext(ctx).Table("receipts r").Select("p.*, r.code, r.disputed_at").
		Joins("JOIN payouts p ON p.id = r.payout_id").Where("r.group_id = ? AND r.disputed_at IS NOT NULL", groupID)
	within := func(col string) (string, []any) {
		cond, args := "1 = 1", []any{}
		if p.From != nil {
			cond, args = cond+" AND "+col+" >= ?", append(args, *p.From)
		}
		if p.To != nil {
			cond, args = cond+" AND "+col+" < ?", append(args, *p.To)
		}
		return cond, args
	}
	made, madeArgs := within("p.created_at")
	answered, answeredArgs := within("r.disputed_at")
	var out []dispute
	err := q.Where("(("+made+") OR ("+answered+"))", append(madeArgs, answeredArgs...)...).
		Order("r.disputed_at, r.id").Scan(&out).Error
	return out, err
}

// payouts are, per artisan, the acknowledged amounts of the period's
// payouts, and the payouts still unconfirmed after UnconfirmedAfter.
func (s *Service) payouts(ctx context.Context, groupID uuid.UUID, p Period) (map[uuid.UUID]int64, []models.Payout, error) {
	db := s.db.WithContext(ctx)
	var ps []models.Payout
	if err := inPeriod(db.Where("group_id = ?", groupID), "created_at", p).Find(&ps).Error; err != nil {
		return nil, nil, err
	}
	acks := map[uuid.UUID]int64{}
	for _, p := range ps {
		if p.AcknowledgedAt != nil {
			acks[p.ArtisanID] += p.Amount
		}
	}
	var old []models.Payout
	err := db.Where("group_id = ? AND acknowledged_at IS NULL AND created_at < ?", groupID, s.opt.Now().UTC().Add(-UnconfirmedAfter)).
		Order("created_at, id").Find(&old).Error
	return acks, old, err
}
