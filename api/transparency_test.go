package api_test

import (
	"net/http"
	"strings"
	"testing"
)

type transparencyBody struct {
	ProductID string `json:"product_id"`
	Price     money  `json:"price"`
	Lines     []struct {
		Kind   string `json:"kind"`
		Label  string `json:"label"`
		Amount money  `json:"amount"`
		BPS    int64  `json:"bps"`
	} `json:"lines"`
	ArtisanShareBPS int64 `json:"artisan_share_bps"`
	WageCheck       struct {
		EffectiveHourlyWage money         `json:"effective_hourly_wage"`
		Benchmark           benchmarkBody `json:"benchmark"`
		RatioBPS            int64         `json:"ratio_bps"`
		MeetsBenchmark      bool          `json:"meets_benchmark"`
	} `json:"wage_check"`
}

type benchmarkBody struct {
	Region        string `json:"region"`
	Name          string `json:"name"`
	Hourly        money  `json:"hourly"`
	Monthly       money  `json:"monthly"`
	HoursPerMonth int    `json:"hours_per_month"`
	Source        string `json:"source"`
}

func (e *env) transparency(id string, opts ...reqOption) transparencyBody {
	e.t.Helper()
	var out transparencyBody
	res := e.do("GET", "/api/v1/products/"+id+"/transparency", nil, opts...)
	res.wantStatus(e.t, http.StatusOK)
	res.decode(e.t, &out)
	return out
}

// The contract's worked example, to the paisa.
func TestTransparencyContractExample(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": "labor_hours",
			"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		p := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)

		tr := e.transparency(p.ID)
		want := []struct {
			kind   string
			amount int64
		}{{"artisan_labor", 100000}, {"materials", 50000}, {"packaging", 5000}, {"collective_fund", 21200},
			{"platform_fee", 30000}, {"payment_processing", 9000}, {"group_margin", 84800}}
		if len(tr.Lines) != len(want) {
			t.Fatalf("lines %+v", tr.Lines)
		}
		var sum int64
		for i, w := range want {
			l := tr.Lines[i]
			if l.Kind != w.kind || l.Amount.Amount != w.amount || l.Amount.Currency != "PKR" || l.BPS != w.amount*10000/300000 {
				t.Errorf("line %d = %+v, want %s %d", i, l, w.kind, w.amount)
			}
			sum += l.Amount.Amount
		}
		if sum != 300000 || tr.Price.Amount != 300000 || tr.ProductID != p.ID {
			t.Errorf("lines sum to %d of %+v", sum, tr.Price)
		}
		if tr.Lines[0].Label != "Paid to the artisans for 4 h 0 min of work" {
			t.Errorf("labour label %q", tr.Lines[0].Label)
		}
		for _, l := range tr.Lines {
			if l.Label == "" || strings.Contains(l.Label, "Secret-Surname") {
				t.Errorf("label %q", l.Label)
			}
		}
		w := tr.WageCheck
		if tr.ArtisanShareBPS != 6160 || w.EffectiveHourlyWage.Amount != 46200 || w.Benchmark.Region != "punjab" ||
			w.Benchmark.Hourly.Amount != 19230 || w.Benchmark.Monthly.Amount != 4000000 || w.Benchmark.HoursPerMonth != 208 ||
			w.Benchmark.Source == "" || w.RatioBPS != 24024 || !w.MeetsBenchmark {
			t.Errorf("figures %+v share %d", w, tr.ArtisanShareBPS)
		}
		// The stored figures the catalogue filters on agree.
		if p.ArtisanShareBPS != 6160 || p.EffectiveHourlyWage.Amount != 46200 || !p.MeetsWageBenchmark {
			t.Errorf("stored figures %+v", p)
		}
	})
}

func TestTransparencyVisibility(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		draft := e.newProduct(f, f.product("Draft vase", "pottery", 300000), false)
		path := "/api/v1/products/" + draft.ID + "/transparency"
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		e.do("GET", path, nil).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(f.buyer.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		for _, s := range []session{f.manager, f.auditor, f.admin} {
			e.transparency(draft.ID, bearer(s.AccessToken))
		}
		e.do("GET", "/api/v1/products/01970ba1-3c4d-7e5f-8a6b-7c8d9e0f1a2b/transparency", nil).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/products/nope/transparency", nil).wantError(t, 400, "bad_request")
		e.do("GET", path, nil, bearer("forged")).wantError(t, 401, "unauthorized")
	})
}

func TestWageBenchmarks(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		var l listBody[benchmarkBody]
		e.do("GET", "/api/v1/wage-benchmarks", nil).decode(t, &l)
		if len(l.Data) != 3 || l.Data[2].Region != "federal" || l.Data[2].Hourly.Amount != 17788 ||
			l.Data[0].Region != "punjab" || l.Data[0].Hourly.Amount != 19230 || l.Data[1].Region != "sindh" {
			t.Fatalf("benchmarks %+v", l.Data)
		}
		for _, b := range l.Data {
			if b.Source == "" || b.Name == "" || b.HoursPerMonth != 208 || b.Hourly.Amount != b.Monthly.Amount/208 {
				t.Errorf("benchmark %+v", b)
			}
		}

		path := "/api/v1/admin/wage-benchmarks/punjab"
		good := map[string]any{"name": "Punjab minimum wage", "monthly": pkr(4200000),
			"source": "Punjab Minimum Wages notification, test"}
		e.do("PUT", path, good).wantError(t, 401, "unauthorized")
		for _, s := range []session{f.buyer, f.manager, f.auditor} {
			e.do("PUT", path, good, bearer(s.AccessToken)).wantError(t, 403, "forbidden")
		}
		admin := bearer(f.admin.AccessToken)
		for _, bad := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": "x", "monthly": map[string]any{"amount": 4200000, "currency": "USD"}, "source": "s"}, "monthly.currency"},
			{map[string]any{"name": "x", "monthly": pkr(0), "source": "s"}, "monthly.amount"},
			{map[string]any{"name": "x", "monthly": pkr(-5), "source": "s"}, "monthly.amount"},
			{map[string]any{"name": "x", "monthly": pkr(4200000), "source": "s", "hours_per_month": 0}, "hours_per_month"},
			{map[string]any{"name": "", "monthly": pkr(4200000), "source": "s"}, "name"},
			{map[string]any{"name": "x", "monthly": pkr(4200000), "source": " "}, "source"},
			{map[string]any{"name": "x", "monthly": pkr(100), "source": "s"}, "monthly.amount"},
		} {
			if e := e.do("PUT", path, bad.body, admin).wantError(t, 422, "validation_failed"); e.Error.Fields[bad.field] == "" {
				t.Errorf("%v: fields %v, want %s", bad.body, e.Error.Fields, bad.field)
			}
		}
		e.do("PUT", "/api/v1/admin/wage-benchmarks/mars", good, admin).wantError(t, 400, "bad_request")
		e.do("PUT", path, map[string]any{"name": "x", "monthly": pkr(4200000), "source": "s", "hourly": 1}, admin).
			wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/wage-benchmarks", nil).decode(t, &l)
		if l.Data[0].Monthly.Amount != 4000000 {
			t.Fatalf("a refused update changed the benchmark: %+v", l.Data[0])
		}

		var b benchmarkBody
		res := e.do("PUT", path, good, admin)
		res.wantStatus(t, 200)
		res.decode(t, &b)
		if b.Monthly.Amount != 4200000 || b.Hourly.Amount != 4200000/208 || b.HoursPerMonth != 208 {
			t.Errorf("set %+v", b)
		}
		res = e.do("PUT", "/api/v1/admin/wage-benchmarks/khyber_pakhtunkhwa", map[string]any{"name": "KP minimum wage",
			"monthly": pkr(3600000), "hours_per_month": 200, "source": "KP notification, test"}, admin)
		res.wantStatus(t, 201)
		res.decode(t, &b)
		if b.Region != "khyber_pakhtunkhwa" || b.Hourly.Amount != 18000 {
			t.Errorf("new region %+v", b)
		}
	})
}

// A benchmark change refigures the products it applies to at once: their
// stored flag (and so fair_wage=true) and their transparency agree with it.
func TestWageBenchmarkChangeRefiguresProducts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		admin := bearer(f.admin.AccessToken)
		p := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true) // earns 42 500 paisa/h
		fair := func() string { return titles(listProducts(t, e, "fair_wage=true")) }
		set := func(region string, monthly int64) {
			t.Helper()
			res := e.do("PUT", "/api/v1/admin/wage-benchmarks/"+region, map[string]any{"name": region + " minimum wage",
				"monthly": pkr(monthly), "source": "test notification"}, admin)
			if res.Code != 200 && res.Code != 201 {
				t.Fatalf("set %s: %d %s", region, res.Code, res.Body)
			}
		}
		if fair() != "Blue pottery vase" {
			t.Fatalf("fair list %q", fair())
		}
		set("punjab", 10000000) // Rs 100,000 a month: 48 076 paisa an hour, above what the makers earn
		tr := e.transparency(p.ID)
		if tr.WageCheck.MeetsBenchmark || tr.WageCheck.Benchmark.Hourly.Amount != 48076 ||
			tr.WageCheck.RatioBPS != tr.WageCheck.EffectiveHourlyWage.Amount*10000/48076 {
			t.Errorf("after a raise: %+v", tr.WageCheck)
		}
		if fair() != "" {
			t.Errorf("fair list after a raise %q", fair())
		}
		set("federal", 1000000) // does not apply to Punjab, which has its own
		if fair() != "" {
			t.Errorf("a federal change moved a Punjab product: %q", fair())
		}

		// Moved to a province without its own benchmark, the group falls under the federal one.
		e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"province": "khyber_pakhtunkhwa"},
			bearer(f.manager.AccessToken)).wantStatus(t, 200)
		if tr = e.transparency(p.ID); tr.WageCheck.Benchmark.Region != "federal" || !tr.WageCheck.MeetsBenchmark || fair() == "" {
			t.Errorf("under the federal benchmark: %+v, fair %q", tr.WageCheck, fair())
		}
		set("federal", 20000000)
		if fair() != "" {
			t.Errorf("fair list after a federal raise %q", fair())
		}
		set("khyber_pakhtunkhwa", 3700000) // its own, lower: met again
		if tr = e.transparency(p.ID); tr.WageCheck.Benchmark.Region != "khyber_pakhtunkhwa" || !tr.WageCheck.MeetsBenchmark ||
			fair() != "Blue pottery vase" {
			t.Errorf("under its own benchmark: %+v, fair %q", tr.WageCheck, fair())
		}
	})
}
