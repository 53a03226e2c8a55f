package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

type statsCellBody struct {
	Key                map[string]string `json:"key"`
	Workers            *int              `json:"workers"`
	Groups             *int              `json:"groups"`
	Hours              *float64          `json:"hours"`
	MeanHourlyEarnings *money            `json:"mean_hourly_earnings"`
	BelowBenchmarkBPS  *int64            `json:"below_benchmark_bps"`
	Suppressed         *string           `json:"suppressed"`
}

type statsBody struct {
	By         []string        `json:"by"`
	Population string          `json:"population"`
	Cells      []statsCellBody `json:"cells"`
	Totals     struct {
		statsCellBody
		Earnings *money `json:"earnings"`
	} `json:"totals"`
}

// statsMember is an artisan of the test network as the test knows her.
type statsMember struct {
	id, group, province, district, gender string
	consenting                            bool
	birthYear                             int // 0: not recorded
	disabled                              *bool
	minutes                               int64
}

// statsNetwork registers a random network of verified groups in two
// provinces, with artisans of every kind (some consenting), and books
// sales of their work: some groups sell far more than others.
func statsNetwork(e *env, rng *rand.Rand, admin session) map[string]*statsMember {
	t := e.t
	t.Helper()
	places := []struct{ province, district string }{{"punjab", "Multan"}, {"punjab", "Lahore"}, {"sindh", "Tharparkar"}}
	members := map[string]*statsMember{}
	for g := range 8 {
		manager := e.register(fmt.Sprintf("m%d@example.pk", g), "producer")
		home := places[g%len(places)]
		group := e.newGroup(manager, fmt.Sprintf("Group %d", g), home.district, home.province)
		e.verify(admin, group.ID)
		var ids []uuid.UUID
		for a := range 4 + rng.IntN(6) {
			m := &statsMember{group: group.ID, province: home.province, district: home.district, gender: "woman"}
			if rng.IntN(6) == 0 && home.province == "punjab" { // she lives in the other Punjab district
				m.district = map[string]string{"Multan": "Lahore", "Lahore": "Multan"}[home.district]
			}
			body := map[string]any{"display_name": fmt.Sprintf("A%d-%d", g, a), "full_name": fmt.Sprintf("Artisan %d %d", g, a),
				"district": m.district}
			switch r := rng.IntN(10); {
			case r < 7:
				body["gender"] = "woman"
			case r < 8:
				body["gender"], m.gender = "transgender", "transgender"
			case r < 9:
				body["gender"], m.gender = "man", "man"
			default:
				m.gender = "undisclosed" // not recorded
			}
			if rng.IntN(10) < 7 {
				m.consenting = true
				body["statistics_consent"] = true
				if rng.IntN(5) > 0 {
					m.birthYear = 1950 + rng.IntN(55)
					body["birth_year"] = m.birthYear
				}
				if rng.IntN(4) > 0 {
					d := rng.IntN(5) == 0
					m.disabled = &d
					answers := map[string]any{"seeing": "no_difficulty", "hearing": "some_difficulty", "walking": "no_difficulty",
						"remembering": "no_difficulty", "self_care": "no_difficulty", "communicating": "no_difficulty"}
					if d {
						answers["walking"] = "cannot_do"
					}
					body["disability"] = answers
				}
			}
			var created artisanBody
			res := e.do("POST", "/api/v1/groups/"+group.ID+"/artisans", body, bearer(manager.AccessToken))
			res.wantStatus(t, http.StatusCreated)
			res.decode(t, &created)
			m.id = created.ID
			members[m.id] = m
			if rng.IntN(8) > 0 { // the others do nothing this period
				ids = append(ids, uuid.MustParse(m.id))
			}
		}
		scale := 1 + rng.IntN(2)
		if g == 0 {
			scale = 12 // one group sells far more than the rest
		}
		for range 2 + rng.IntN(4) {
			if len(ids) == 0 {
				break
			}
			var makers []ledger.MakerMinutes
			for _, i := range rng.Perm(len(ids))[:1+rng.IntN(min(2, len(ids)))] {
				makers = append(makers, ledger.MakerMinutes{ArtisanID: ids[i], Minutes: int64(30 + rng.IntN(300))})
			}
			qty := int64(scale * (1 + rng.IntN(3)))
			sell(e, group.ID, qty, makers...)
			for _, mk := range makers {
				members[mk.ArtisanID.String()].minutes += mk.Minutes * qty
			}
		}
	}
	return members
}

// ledgerEarnings is what the ledger credited each artisan's payable
// account, payouts aside, read straight from its postings.
func ledgerEarnings(e *env) map[string]int64 {
	e.t.Helper()
	var rows []struct {
		OwnerID uuid.UUID
		Amount  int64
	}
	if err := e.db.Table("ledger_postings p").Select("a.owner_id, SUM(p.amount) AS amount").
		Joins("JOIN ledger_accounts a ON a.id = p.account_id").Joins("JOIN ledger_transactions t ON t.id = p.transaction_id").
		Where("a.owner_kind = 'artisan' AND a.type = 'payable' AND t.kind <> 'payout'").Group("a.owner_id").Scan(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.OwnerID.String()] = r.Amount
	}
	return out
}

// value is a member's value of a dimension, as the statistics name it.
func (m *statsMember) value(dim string, year int) string {
	switch dim {
	case "gender":
		return m.gender
	case "province":
		return m.province
	case "district":
		return m.district
	case "age_band":
		if m.birthYear == 0 {
			return "not_recorded"
		}
		switch age := year - m.birthYear; {
		case age < 18:
			return "under_18"
		case age < 25:
			return "18_24"
		case age < 55:
			return "25_54"
		case age < 65:
			return "55_64"
		}
		return "65_plus"
	case "disability":
		switch {
		case m.disabled == nil:
			return "not_recorded"
		case *m.disabled:
			return "with_disability"
		}
		return "without_disability"
	}
	panic(dim)
}

// TestEarningsStatsProtectThePeopleCounted: over random networks booked
// through the ledger, on both databases, every table auditors and the
// public can ask for publishes only cells of at least five workers from at
// least three groups that no group dominates, with the figures of exactly
// those workers; hides every figure of a suppressed cell; never leaves one
// suppressed cell alone in a row or column, or beside a published total;
// and publishes totals equal to the ledger's.
func TestEarningsStatsProtectThePeopleCounted(t *testing.T) {
	for _, seed := range []uint64{20, 15} {
		t.Run("seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
			eachDB(t, func(t *testing.T, e *env) {
				rng := rand.New(rand.NewPCG(seed, 8))
				admin := e.staff("admin@karigar.pk", "admin")
				auditor := e.staff("auditor@ngo.pk", "auditor") // assigned to no group
				members := statsNetwork(e, rng, admin)
				earned := ledgerEarnings(e)
				year := timeNowYear()
				var published, suppressed, secondary int
				for _, by := range []string{"gender", "province", "district", "age_band", "disability", "gender,province",
					"gender,district", "province,district", "age_band,gender", "age_band,disability", "disability,province",
					"age_band,district"} {
					var s statsBody
					res := e.do("GET", "/api/v1/stats/earnings?by="+by, nil, bearer(auditor.AccessToken))
					res.wantStatus(t, http.StatusOK)
					res.decode(t, &s)
					for _, m := range members {
						if strings.Contains(string(res.Body), m.id) || strings.Contains(string(res.Body), "Artisan ") {
							t.Fatalf("by %s names an artisan", by)
						}
					}
					consenting := strings.Contains(by, "age_band") || strings.Contains(by, "disability")
					if want := map[bool]string{false: "all_workers", true: "consenting_workers"}[consenting]; s.Population != want {
						t.Errorf("by %s: population %q", by, s.Population)
					}
					// The workers each cell holds, from what the test booked.
					of := func(key map[string]string) []*statsMember {
						var out []*statsMember
						for _, m := range members {
							if earned[m.id] == 0 && m.minutes == 0 || consenting && !m.consenting {
								continue
							}
							ok := true
							for dim, v := range key {
								ok = ok && m.value(dim, year) == v
							}
							if ok {
								out = append(out, m)
							}
						}
						return out
					}
					check := func(c statsCellBody, what string) {
						t.Helper()
						if c.Suppressed != nil {
							suppressed++
							if *c.Suppressed == "secondary" {
								secondary++
							}
							if c.Workers != nil || c.Groups != nil || c.Hours != nil || c.MeanHourlyEarnings != nil || c.BelowBenchmarkBPS != nil {
								t.Errorf("by %s: suppressed %s carries figures: %+v", by, what, c)
							}
							return
						}
						published++
						ws := of(c.Key)
						byGroup := map[string]int64{}
						var minutes, total, top int64
						for _, m := range ws {
							byGroup[m.group] += earned[m.id]
							minutes += m.minutes
						}
						for _, v := range byGroup {
							if v > 0 {
								total += v
								top = max(top, v)
							}
						}
						switch {
						case len(ws) < 5 || len(byGroup) < 3:
							t.Errorf("by %s: published %s %v has %d workers in %d groups", by, what, c.Key, len(ws), len(byGroup))
						case top*10 > total*6:
							t.Errorf("by %s: published %s %v is dominated (%d of %d)", by, what, c.Key, top, total)
						case c.Workers == nil || *c.Workers != len(ws) || *c.Groups != len(byGroup) || c.Hours == nil ||
							fmt.Sprintf("%.2f", *c.Hours) != fmt.Sprintf("%d.%02d", minutes/60, minutes%60*100/60):
							t.Errorf("by %s: %s %v shows %+v; want %d workers, %d groups, %d minutes", by, what, c.Key, c, len(ws), len(byGroup), minutes)
						}
					}
					for _, c := range s.Cells {
						check(c, "cell")
					}
					check(s.Totals.statsCellBody, "total")
					if s.Totals.Suppressed == nil {
						var want int64
						for _, m := range of(nil) {
							want += earned[m.id]
						}
						if s.Totals.Earnings == nil || s.Totals.Earnings.Amount != want {
							t.Errorf("by %s: total earnings %+v, the ledger's %d", by, s.Totals.Earnings, want)
						}
					}
					dims := strings.Split(by, ",")
					if len(dims) == 1 && s.Totals.Suppressed == nil && suppressedIn(s.Cells) == 1 {
						t.Errorf("by %s: one suppressed cell beside a published total", by)
					}
					if len(dims) == 2 && by != "province,district" {
						for _, line := range statsLines(s.Cells, dims) {
							if len(line) > 1 && suppressedIn(line) == 1 {
								t.Errorf("by %s: a row or column with exactly one suppressed cell: %+v", by, line)
							}
						}
					}
				}
				if published == 0 || suppressed == 0 {
					t.Errorf("%d cells published, %d suppressed: the network exercised only one outcome", published, suppressed)
				}
				t.Logf("%d cells published, %d suppressed (%d secondary)", published, suppressed, secondary)

				// The totals of all workers are the ledger's: every earning booked
				// to an artisan, and every minute of work sold.
				var s statsBody
				e.do("GET", "/api/v1/stats/earnings?by=province", nil, bearer(admin.AccessToken)).decode(t, &s)
				var all, minutes int64
				for _, v := range earned {
					all += v
				}
				for _, m := range members {
					minutes += m.minutes
				}
				if s.Totals.Suppressed != nil || s.Totals.Earnings.Amount != all ||
					fmt.Sprintf("%.2f", *s.Totals.Hours) != fmt.Sprintf("%d.%02d", minutes/60, minutes%60*100/60) {
					t.Errorf("totals %+v, the ledger's %d earned, %d minutes", s.Totals, all, minutes)
				}

				// The public variant: the same cells, suppressed alike, for anyone.
				public := e.do("GET", "/api/v1/stats/earnings/public?by=gender,province", nil, from("203.0.113.50"))
				staff := e.do("GET", "/api/v1/stats/earnings?by=gender,province", nil, bearer(auditor.AccessToken))
				if public.Code != http.StatusOK || string(public.Body) != string(staff.Body) {
					t.Errorf("public %d %s\nstaff %s", public.Code, public.Body, staff.Body)
				}
			})
		})
	}
}

// timeNowYear is this year in Pakistan, where the age bands' years begin.
func timeNowYear() int { return time.Now().In(time.FixedZone("PKT", 5*3600)).Year() }

func suppressedIn(cs []statsCellBody) int {
	n := 0
	for _, c := range cs {
		if c.Suppressed != nil {
			n++
		}
	}
	return n
}

// statsLines are the rows and columns of a two-way table.
func statsLines(cs []statsCellBody, dims []string) [][]statsCellBody {
	var out [][]statsCellBody
	for _, d := range dims {
		lines := map[string][]statsCellBody{}
		var order []string
		for _, c := range cs {
			v := c.Key[d]
			if d == "district" {
				v = c.Key["province"] + "/" + v
			}
			if _, ok := lines[v]; !ok {
				order = append(order, v)
			}
			lines[v] = append(lines[v], c)
		}
		for _, v := range order {
			out = append(out, lines[v])
		}
	}
	return out
}

// Who may ask for what, bad queries, and CSV.
func TestEarningsStatsAccessAndFormats(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		rng := rand.New(rand.NewPCG(3, 4))
		admin := e.staff("admin@karigar.pk", "admin")
		auditor := e.staff("auditor@ngo.pk", "auditor")
		buyer := e.register("buyer@example.pk", "buyer")
		statsNetwork(e, rng, admin)
		producer := e.register("producer@example.pk", "producer")

		path := "/api/v1/stats/earnings?by=gender"
		e.do("GET", path, nil).wantError(t, 401, "unauthorized")
		e.do("GET", path, nil, bearer(buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path, nil, bearer(producer.AccessToken)).wantError(t, 403, "forbidden")
		for _, bad := range []string{"", "?by=", "?by=caste", "?by=gender,gender", "?by=gender,province,district", "?by=gender&format=pdf",
			"?by=gender&from=last-year"} {
			e.do("GET", "/api/v1/stats/earnings"+bad, nil, bearer(auditor.AccessToken)).wantError(t, 400, "bad_request")
		}
		e.do("GET", "/api/v1/stats/earnings?by=gender&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, bearer(auditor.AccessToken)).
			wantError(t, 422, "validation_failed")
		for _, bad := range []string{"age_band", "disability", "district", "gender,district"} {
			e.do("GET", "/api/v1/stats/earnings/public?by="+bad, nil, from("198.51.100.1")).wantError(t, 400, "bad_request")
		}

		// A period before any sale: every cell is empty, so suppressed.
		var empty statsBody
		e.do("GET", path+"&to=2020-01-01T00:00:00Z", nil, bearer(admin.AccessToken)).decode(t, &empty)
		if len(empty.Cells) != 4 || suppressedIn(empty.Cells) != 4 || empty.Totals.Suppressed == nil || empty.Totals.Earnings != nil {
			t.Errorf("an empty period %+v", empty)
		}

		// CSV: the same table, every published figure in it.
		var s statsBody
		res := e.do("GET", "/api/v1/stats/earnings?by=gender,district", nil, bearer(auditor.AccessToken))
		res.decode(t, &s)
		csvRes := e.do("GET", "/api/v1/stats/earnings?by=gender,district&format=csv", nil, bearer(auditor.AccessToken))
		csvRes.wantStatus(t, http.StatusOK)
		if !strings.HasPrefix(csvRes.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("Content-Type %q", csvRes.Header.Get("Content-Type"))
		}
		sections := csvSections(t, csvRes.Body)
		if len(sections) != 3 {
			t.Fatalf("sections %q", sections)
		}
		table := sections[1]
		if got := strings.Join(table[0], ","); got != "gender,province,district,workers,groups,hours,mean_hourly_earnings_rs,below_benchmark_bps,suppressed" {
			t.Fatalf("header %s", got)
		}
		if len(table) != len(s.Cells)+1 {
			t.Fatalf("%d rows for %d cells", len(table)-1, len(s.Cells))
		}
		for i, c := range s.Cells {
			row := table[i+1]
			want := []string{c.Key["gender"], c.Key["province"], c.Key["district"], "", "", "", "", "", ""}
			if c.Suppressed != nil {
				want[8] = *c.Suppressed
			} else {
				want[3], want[4], want[5] = strconv.Itoa(*c.Workers), strconv.Itoa(*c.Groups), fmt.Sprintf("%.2f", *c.Hours)
				if c.MeanHourlyEarnings != nil {
					want[6] = fmt.Sprintf("%d.%02d", c.MeanHourlyEarnings.Amount/100, c.MeanHourlyEarnings.Amount%100)
					want[7] = strconv.FormatInt(*c.BelowBenchmarkBPS, 10)
				}
			}
			if !slices.Equal(row, want) {
				t.Errorf("row %v, want %v", row, want)
			}
		}
		if totals := sections[2]; len(totals) != 2 || totals[0][len(totals[0])-1] != "earnings_rs" {
			t.Errorf("totals section %q", totals)
		}

		// The public variant: no login, ten a minute per address.
		for range 10 {
			e.do("GET", "/api/v1/stats/earnings/public?by=province", nil, from("198.51.100.9")).wantStatus(t, http.StatusOK)
		}
		res = e.do("GET", "/api/v1/stats/earnings/public?by=province", nil, from("198.51.100.9"))
		res.wantError(t, 429, "rate_limited")
		if !strings.Contains(res.Header.Get("RateLimit-Policy"), `"stats-public"`) {
			t.Errorf("policy %q", res.Header.Get("RateLimit-Policy"))
		}
		e.do("GET", "/api/v1/stats/earnings/public?by=province", nil, from("198.51.100.10")).wantStatus(t, http.StatusOK)
	})
}
