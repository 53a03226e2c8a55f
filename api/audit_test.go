package api_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

type reportBody struct {
	Sales          money `json:"sales"`
	Shipping       money `json:"shipping"`
	Refunds        money `json:"refunds"`
	Orders         int   `json:"orders"`
	Units          int64 `json:"units"`
	CollectiveFund money `json:"collective_fund"`
	Fees           struct {
		Platform          money `json:"platform"`
		PaymentProcessing money `json:"payment_processing"`
	} `json:"fees"`
	Artisans []struct {
		DisplayName         string `json:"display_name"`
		LaborMinutes        int64  `json:"labor_minutes"`
		Earned              money  `json:"earned"`
		Paid                money  `json:"paid"`
		Acknowledged        money  `json:"acknowledged"`
		Balance             money  `json:"balance"`
		EffectiveHourlyWage *money `json:"effective_hourly_wage"`
		MeetsBenchmark      *bool  `json:"meets_benchmark"`
	} `json:"artisans"`
	WithHours     int   `json:"artisans_with_hours"`
	WithoutHours  int   `json:"artisans_without_hours"`
	ComplianceBPS int64 `json:"fair_wage_compliance_bps"`
	Findings      []struct {
		Kind        string `json:"kind"`
		DisplayName string `json:"display_name"`
		Amount      *money `json:"amount"`
		Check       string `json:"check"`
	} `json:"findings"`
	LedgerVerified bool `json:"ledger_verified"`
}

type impactBody struct {
	ActiveGroups   int   `json:"active_groups"`
	ActiveArtisans int   `json:"active_artisans"`
	WithoutHours   int   `json:"artisans_without_hours"`
	Paid           money `json:"total_paid_to_artisans"`
	Earned         money `json:"total_earned_by_artisans"`
	MedianShare    int64 `json:"median_artisan_share_bps"`
	Hourly         money `json:"average_hourly_earnings"`
	Rows           []struct {
		Province     string `json:"province"`
		District     string `json:"district"`
		Gender       string `json:"gender"`
		Artisans     int    `json:"artisans"`
		WithHours    int    `json:"artisans_with_hours"`
		WithoutHours int    `json:"artisans_without_hours"`
		Minutes      int64  `json:"labor_minutes"`
		Earned       money  `json:"earned"`
		Hourly       money  `json:"average_hourly_earnings"`
		Benchmark    money  `json:"benchmark_hourly"`
		RatioBPS     int64  `json:"ratio_bps"`
	} `json:"rows"`
	LedgerVerified bool `json:"ledger_verified"`
}

// A month of a network of two groups, and both reports checked figure by
// figure against hand-computed values, as JSON and as CSV.
//
// Multan (Punjab, labour-hours sharing, fund 20%, shipping Rs 250): Shazia
// (woman) and Rukhsana (undisclosed) make the vase (Rs 3,000; 180 + 60 min
// at Rs 250/h; materials 500, packaging 50); Nasreen does nothing this month.
// Thar (Sindh, equal sharing, fund 20%): Marvi (woman) makes the basket
// (Rs 2,000; 240 min at Rs 100/h, the same costs); Sassi (woman) makes
// nothing. Stripe's fee (stripe-mock's) is 0.
//
//  1. Card, paid: vase + basket. Each books the split the buyer was shown,
//     with the card fee estimate (3%) replaced by the fee paid, 0, in the
//     group margin. Vase: labour 100000 (75000 + 25000), margin 300000 −
//     100000 − 55000 − 30000 − 9000 = 106000, fund 21200, group 84800 + 9000
//     = 93800. Basket: labour 40000, margin 200000 − 40000 − 55000 − 20000 −
//     6000 = 79000, fund 15800, group 63200 + 6000 = 69200.
//  2. Cash, delivered: 2 vases: labour 200000 (150000 + 50000), fund 42400,
//     group 187600.
//  3. Card, paid, then cancelled by the buyer: a basket sold and refunded.
//  4. Distributions: Multan 281400 by minutes (Shazia 540, Rukhsana 180):
//     211050 and 70350. Thar 69200 equally: 34600 each.
//  5. Payouts: Shazia 300000 (confirmed), Rukhsana 100000 (not confirmed,
//     and the report is read 15 days later), Marvi 30000 (confirmed).
func TestAuditReports(t *testing.T) {
	later := func() time.Time { return time.Now().Add(15 * 24 * time.Hour) }
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		manager, other := bearer(f.manager.AccessToken), bearer(f.other.AccessToken)
		e.do("PATCH", "/api/v1/products/"+f.basket.ID, map[string]any{"cost": map[string]any{"hourly_wage": pkr(10000)}}, other).
			wantStatus(t, 200)
		e.do("PATCH", "/api/v1/groups/"+f.second.ID, map[string]any{"profit_sharing": map[string]any{"method": "equal",
			"collective_fund_bps": 2000}}, other).wantStatus(t, 200)
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"gender": "woman"}, manager).wantStatus(t, 200)
		e.do("PATCH", "/api/v1/artisans/"+f.secondArtisan.ID, map[string]any{"gender": "woman"}, other).wantStatus(t, 200)
		e.do("POST", "/api/v1/groups/"+f.group.ID+"/artisans", map[string]any{"display_name": "نسرین", "full_name": "Nasreen Bibi",
			"district": "Multan", "gender": "woman"}, manager).wantStatus(t, 201)
		e.do("POST", "/api/v1/groups/"+f.second.ID+"/artisans", map[string]any{"display_name": "Sassi", "full_name": "Sassi Bibi",
			"district": "Tharparkar", "gender": "woman"}, other).wantStatus(t, 201)

		now := time.Now()
		paid := func(o orderBody) {
			t.Helper()
			if oc := outcome(t, e.deliverWebhook(webhookEvent(t, "evt_"+o.ID, "payment_intent.succeeded", o, o.Total.Amount),
				webhookSecret, now)); oc != "applied" {
				t.Fatalf("payment: %s", oc)
			}
		}
		paid(e.order(f.buyer, "o1", orderBodyOf("card", item(f.vase.ID, 1), item(f.basket.ID, 1))))
		o2 := e.order(f.buyer, "o2", orderBodyOf("cash_on_delivery", item(f.vase.ID, 2)))
		e.do("POST", "/api/v1/orders/"+o2.ID+"/shipments", map[string]any{"group_id": f.group.ID}, manager).wantStatus(t, 200)
		e.do("POST", "/api/v1/orders/"+o2.ID+"/deliver", map[string]any{"group_id": f.group.ID}, manager).wantStatus(t, 200)
		o3 := e.order(f.buyer, "o3", orderBodyOf("card", item(f.basket.ID, 1)))
		paid(o3)
		e.do("POST", "/api/v1/orders/"+o3.ID+"/cancel", nil, bearer(f.buyer.AccessToken)).wantStatus(t, 200)
		for _, d := range []struct {
			group string
			who   reqOption
		}{{f.group.ID, manager}, {f.second.ID, other}} {
			e.do("POST", "/api/v1/groups/"+d.group+"/distributions", nil, d.who).wantStatus(t, 201)
		}
		payout := func(group, artisan string, amount int64, who reqOption) string {
			t.Helper()
			var p payoutBody
			res := e.do("POST", "/api/v1/groups/"+group+"/payouts", map[string]any{"artisan_id": artisan, "amount": pkr(amount),
				"method": "easypaisa", "reference": "EP-" + artisan[:8]}, who, header("Idempotency-Key", "p-"+artisan))
			res.wantStatus(t, 201)
			res.decode(t, &p)
			return p.ID
		}
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		e.do("POST", "/api/v1/payouts/"+payout(f.group.ID, f.public.ID, 300000, manager)+"/acknowledge",
			map[string]any{"note": "confirmed to the auditor by phone"}, bearer(f.auditor.AccessToken)).wantStatus(t, 200)
		payout(f.group.ID, f.private.ID, 100000, manager)
		e.do("POST", "/api/v1/payouts/"+payout(f.second.ID, f.secondArtisan.ID, 30000, other)+"/acknowledge",
			map[string]any{"note": "she confirmed"}, other).wantStatus(t, 200)

		period := "from=" + url.QueryEscape(now.Add(-24*time.Hour).UTC().Format(time.RFC3339)) +
			"&to=" + url.QueryEscape(now.Add(24*time.Hour).UTC().Format(time.RFC3339))
		report := func(group string, who reqOption, query string) reportBody {
			t.Helper()
			var r reportBody
			res := e.do("GET", "/api/v1/audit/groups/"+group+"/report?"+query, nil, who)
			res.wantStatus(t, 200)
			res.decode(t, &r)
			return r
		}

		// Multan.
		a := report(f.group.ID, bearer(f.auditor.AccessToken), period)
		if a.Sales.Amount != 900000 || a.Shipping.Amount != 50000 || a.Refunds.Amount != 0 || a.Orders != 2 || a.Units != 3 ||
			a.CollectiveFund.Amount != 63600 || a.Fees.Platform.Amount != 90000 || a.Fees.PaymentProcessing.Amount != 0 ||
			a.WithHours != 2 || a.WithoutHours != 1 || a.ComplianceBPS != 10000 || !a.LedgerVerified {
			t.Errorf("Multan totals %+v", a)
		}
		type line struct {
			minutes, earned, paid, acked, balance, wage int64
			meets                                       *bool
		}
		yes, no := true, false
		check := func(r reportBody, want map[string]line) {
			t.Helper()
			if len(r.Artisans) != len(want) {
				t.Fatalf("%d artisans, want %d", len(r.Artisans), len(want))
			}
			for _, got := range r.Artisans {
				w := want[got.DisplayName]
				wage := int64(-1)
				if got.EffectiveHourlyWage != nil {
					wage = got.EffectiveHourlyWage.Amount
				}
				if got.LaborMinutes != w.minutes || got.Earned.Amount != w.earned || got.Paid.Amount != w.paid ||
					got.Acknowledged.Amount != w.acked || got.Balance.Amount != w.balance || wage != w.wage ||
					(w.meets == nil) != (got.MeetsBenchmark == nil) || (w.meets != nil && *w.meets != *got.MeetsBenchmark) {
					t.Errorf("%s: %+v, want %+v", got.DisplayName, got, w)
				}
			}
		}
		check(a, map[string]line{
			"Shazia":   {540, 436050, 300000, 300000, 136050, 48450, &yes},
			"Rukhsana": {180, 145350, 100000, 0, 45350, 48450, &yes},
			"نسرین":    {0, 0, 0, 0, 0, -1, nil},
		})
		if len(a.Findings) != 1 || a.Findings[0].Kind != "unconfirmed_payout" || a.Findings[0].DisplayName != "Rukhsana" ||
			a.Findings[0].Amount == nil || a.Findings[0].Amount.Amount != 100000 || a.Findings[0].Check == "" {
			t.Errorf("Multan findings 15 days on: %+v", a.Findings)
		}

		// Thar.
		b := report(f.second.ID, other, period)
		if b.Sales.Amount != 400000 || b.Refunds.Amount != 200000 || b.Shipping.Amount != 25000 || b.Orders != 2 || b.Units != 1 ||
			b.CollectiveFund.Amount != 15800 || b.Fees.Platform.Amount != 20000 || b.WithHours != 1 || b.WithoutHours != 1 ||
			b.ComplianceBPS != 0 || !b.LedgerVerified {
			t.Errorf("Thar totals %+v", b)
		}
		check(b, map[string]line{
			"Marvi": {240, 74600, 30000, 30000, 44600, 18650, &no},
			"Sassi": {0, 34600, 0, 0, 34600, -1, nil},
		})
		if len(b.Findings) != 1 || b.Findings[0].Kind != "below_benchmark" || b.Findings[0].DisplayName != "Marvi" {
			t.Errorf("Thar findings %+v", b.Findings)
		}

		// A period before any of it holds nothing, and roles and bad periods.
		if r := report(f.group.ID, manager, "to=2020-01-01T00:00:00Z"); r.Sales.Amount != 0 || r.Orders != 0 || r.WithHours != 0 {
			t.Errorf("an empty period: %+v", r)
		}
		path := "/api/v1/audit/groups/" + f.group.ID + "/report"
		e.do("GET", path, nil, other).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path+"?from=last-month", nil, manager).wantError(t, 400, "bad_request")
		e.do("GET", path+"?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, manager).wantError(t, 422, "validation_failed")
		e.do("GET", path+"?format=pdf", nil, manager).wantError(t, 400, "bad_request")

		// The same report as CSV, by ?format=csv and by Accept.
		for _, req := range []struct {
			query string
			opts  []reqOption
		}{{period + "&format=csv", []reqOption{manager}}, {period, []reqOption{manager, header("Accept", "text/csv")}}} {
			res := e.do("GET", path+"?"+req.query, nil, req.opts...)
			res.wantStatus(t, 200)
			if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(res.Body), "\ufeff") {
				t.Fatalf("CSV %q %q", res.Header.Get("Content-Type"), res.Body)
			}
			sections := csvSections(t, res.Body)
			if len(sections) != 3 {
				t.Fatalf("CSV sections %q", sections)
			}
			rows := sections[1]
			want := map[string]string{
				"Shazia":   "Shazia,Multan,540,9.00,4360.50,3000.00,3000.00,1360.50,484.50,true",
				"Rukhsana": "Rukhsana,Multan,180,3.00,1453.50,1000.00,0.00,453.50,484.50,true",
				"نسرین":    "نسرین,Multan,0,0.00,0.00,0.00,0.00,0.00,,",
			}
			if len(rows) != 4 || strings.Join(rows[0], ",") != "artisan_id,display_name,district,labor_minutes,hours,earned_rs,paid_rs,acknowledged_rs,balance_rs,effective_hourly_wage_rs,meets_benchmark" {
				t.Fatalf("CSV rows %q", rows)
			}
			for _, r := range rows[1:] {
				if got := strings.Join(r[1:], ","); got != want[r[1]] {
					t.Errorf("CSV row %q, want %q", got, want[r[1]])
				}
			}
		}

		// Every figure of the JSON form is in the CSV.
		jsonRes := e.do("GET", path+"?"+period, nil, manager)
		jsonRes.wantStatus(t, 200)
		csvRes := e.do("GET", path+"?format=csv&"+period, nil, manager)
		csvRes.wantStatus(t, 200)
		wantCSVParity(t, jsonRes.Body, csvRes.Body)

		// The impact report: no names, by province, district and gender.
		var imp impactBody
		res := e.do("GET", "/api/v1/audit/impact?"+period, nil, bearer(f.auditor.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &imp)
		if imp.ActiveGroups != 2 || imp.ActiveArtisans != 4 || imp.WithoutHours != 1 || imp.Paid.Amount != 430000 ||
			imp.Earned.Amount != 690600 || imp.MedianShare != 5960 || imp.Hourly.Amount != 41000 || !imp.LedgerVerified {
			t.Errorf("impact totals %+v", imp)
		}
		wantRows := []string{
			"punjab|Multan|undisclosed|1|1|0|180|145350|48450|19230|25195",
			"punjab|Multan|woman|1|1|0|540|436050|48450|19230|25195",
			"sindh|Tharparkar|woman|2|1|1|240|109200|18650|19230|9698",
		}
		var gotRows []string
		for _, r := range imp.Rows {
			gotRows = append(gotRows, strings.Join([]string{r.Province, r.District, r.Gender, itoa(r.Artisans), itoa(r.WithHours),
				itoa(r.WithoutHours), itoa(r.Minutes), itoa(r.Earned.Amount), itoa(r.Hourly.Amount), itoa(r.Benchmark.Amount),
				itoa(r.RatioBPS)}, "|"))
		}
		if strings.Join(gotRows, "\n") != strings.Join(wantRows, "\n") {
			t.Errorf("impact rows\n%s\nwant\n%s", strings.Join(gotRows, "\n"), strings.Join(wantRows, "\n"))
		}
		for _, name := range []string{"Shazia", "Rukhsana", "Marvi", "Sassi", "نسرین", f.public.ID, "Secret-Surname"} {
			if strings.Contains(string(res.Body), name) {
				t.Errorf("the impact report names %q", name)
			}
		}
		res = e.do("GET", "/api/v1/audit/impact?format=csv&province=sindh&"+period, nil, bearer(f.admin.AccessToken))
		res.wantStatus(t, 200)
		sections := csvSections(t, res.Body)
		rows := sections[len(sections)-1]
		if len(sections) != 2 || len(rows) != 2 || strings.Join(rows[1], ",") != "sindh,Tharparkar,woman,2,1,1,240,4.00,1092.00,186.50,192.30,9698" {
			t.Errorf("impact CSV %q", sections)
		}
		jsonRes = e.do("GET", "/api/v1/audit/impact?province=sindh&"+period, nil, bearer(f.admin.AccessToken))
		jsonRes.wantStatus(t, 200)
		wantCSVParity(t, jsonRes.Body, res.Body)
		e.do("GET", "/api/v1/audit/impact", nil, manager).wantError(t, 403, "forbidden")
		e.do("GET", "/api/v1/audit/impact?province=mars", nil, bearer(f.auditor.AccessToken)).wantError(t, 400, "bad_request")
	}, withStripe(t), func(c envConfig) { c.wiring.Clocks.Audit = later })
}

// A payout unconfirmed for less than 14 days is not yet a finding.
func TestAuditRecentPayoutIsNoFinding(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.private.ID), Minutes: 240})
		e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.private.ID, "amount": pkr(50000),
			"method": "cash"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "recent")).wantStatus(t, 201)
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		var r reportBody
		e.do("GET", "/api/v1/audit/groups/"+f.group.ID+"/report", nil, bearer(f.auditor.AccessToken)).decode(t, &r)
		if len(r.Findings) != 0 || !r.LedgerVerified {
			t.Fatalf("findings %+v", r.Findings)
		}
	})
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
