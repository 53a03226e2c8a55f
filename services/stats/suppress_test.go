package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// requestable are the tables the service answers, as the dimensions asked
// for, with whether they count only the consenting workers.
var requestable = func() []struct {
	by         []Dimension
	consenting bool
} {
	var out []struct {
		by         []Dimension
		consenting bool
	}
	for i, a := range dims {
		out = append(out, struct {
			by         []Dimension
			consenting bool
		}{[]Dimension{a}, a == AgeBand || a == Disability})
		for _, b := range dims[i+1:] {
			out = append(out, struct {
				by         []Dimension
				consenting bool
			}{[]Dimension{a, b}, a == AgeBand || a == Disability || b == AgeBand || b == Disability})
		}
	}
	return out
}()

// population is a random network: a few groups, some dominant, spread over
// provinces and districts, with a skewed mix of genders, some consenting.
func population(rng *rand.Rand) ([]Worker, Domains) {
	d := Domains{Genders: []string{"woman", "man", "transgender", "undisclosed"},
		Provinces: []string{"punjab", "sindh", "khyber_pakhtunkhwa", "balochistan"}, DistrictProvince: map[string]string{}}
	d.Provinces = d.Provinces[:1+rng.IntN(len(d.Provinces))]
	for _, p := range d.Provinces {
		for i := range 1 + rng.IntN(3) {
			k := DistrictKey(p, fmt.Sprintf("District %d", i))
			d.Districts = append(d.Districts, k)
			d.DistrictProvince[k] = p
		}
	}
	nGroups, nWorkers := 1+rng.IntN(12), rng.IntN(160)
	if rng.IntN(3) == 0 { // a larger network, where most cells are published
		nGroups, nWorkers = 5+rng.IntN(40), 200+rng.IntN(1200)
	}
	type group struct {
		id       uuid.UUID
		district string
		weight   int64 // a dominant group earns many times more
	}
	gs := make([]group, nGroups)
	for i := range gs {
		gs[i] = group{id: uuid.New(), district: d.Districts[rng.IntN(len(d.Districts))], weight: 1}
		if rng.IntN(4) == 0 {
			gs[i].weight = int64(2 + rng.IntN(20))
		}
	}
	var ws []Worker
	for range nWorkers {
		g := gs[rng.IntN(len(gs))]
		w := Worker{Group: g.id, District: g.district, Province: d.DistrictProvince[g.district], Benchmark: 19230,
			AgeBand: NotRecorded, Disability: NotRecorded}
		if rng.IntN(5) == 0 { // some live in another district of the network
			w.District = d.Districts[rng.IntN(len(d.Districts))]
			w.Province = d.DistrictProvince[w.District]
		}
		switch r := rng.IntN(20); {
		case r < 14:
			w.Gender = "woman"
		case r < 16:
			w.Gender = "man"
		case r < 17:
			w.Gender = "transgender"
		default:
			w.Gender = "undisclosed"
		}
		if rng.IntN(10) < 6 {
			w.Consenting = true
			if rng.IntN(5) > 0 {
				w.AgeBand = AgeBands[rng.IntN(len(AgeBands)-1)]
			}
			if rng.IntN(5) > 0 {
				w.Disability = []string{WithDisability, WithoutDisability, WithoutDisability, WithoutDisability}[rng.IntN(4)]
			}
		}
		w.Earned = g.weight * int64(rng.IntN(200000))
		switch rng.IntN(10) {
		case 0:
			w.Minutes = 0 // shared in a distribution, no logged work
		case 1:
			w.Minutes = -int64(rng.IntN(100)) // a refund of an earlier month's sale
			w.Earned = -int64(rng.IntN(20000))
		default:
			w.Minutes = int64(1 + rng.IntN(3000))
		}
		ws = append(ws, w)
	}
	return ws, d
}

// members are the workers a cell of a table counts, found independently of
// the lattice.
func members(ws []Worker, consenting bool, key map[Dimension]string) []Worker {
	var out []Worker
	for _, w := range ws {
		if consenting && !w.Consenting {
			continue
		}
		k := w.key()
		ok := true
		for d, v := range key {
			ok = ok && k[dimIndex(d)] == v
		}
		if ok {
			out = append(out, w)
		}
	}
	return out
}

// TestSuppressionProperties: over random populations, every table the
// service answers publishes only cells that meet the rules, with the
// figures of the workers they hold; no row or column of a two-way table,
// and no one-way table whose total is published, has exactly one suppressed
// cell; and no suppressed cell can be solved for from the published cells
// and totals of all the tables together.
func TestSuppressionProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 15))
	n := 400
	if testing.Short() {
		n = 60
	}
	var published, suppressed, secondary int
	for run := range n {
		ws, d := population(rng)
		rules := DefaultRules
		rules.MinWorkers = 3 + rng.IntN(5)
		l := Build(ws, d, rules)
		for _, u := range []bool{false, true} {
			total := l.Table(u, nil)[0]
			if want := members(ws, u, nil); total.Workers != len(want) || total.Earned != sum(want, func(w Worker) int64 { return w.Earned }) ||
				total.Minutes != sum(want, func(w Worker) int64 { return w.Minutes }) {
				t.Fatalf("run %d: totals %+v, want the sum of %d workers", run, total, len(want))
			}
		}
		for _, q := range requestable {
			cells := l.Table(q.consenting, q.by)
			if cells == nil {
				t.Fatalf("no table by %v", q.by)
			}
			for _, c := range cells {
				m := members(ws, q.consenting, c.Key)
				if c.Workers != len(m) || c.Minutes != sum(m, func(w Worker) int64 { return w.Minutes }) {
					t.Fatalf("run %d, by %v, cell %v: %d workers, %d minutes; want %d", run, q.by, c.Key, c.Workers, c.Minutes, len(m))
				}
				if c.Status != Published {
					suppressed++
					if c.Status == Secondary {
						secondary++
					}
					continue
				}
				published++
				if reason := breaks(m, rules); reason != "" {
					t.Fatalf("run %d, by %v: published cell %v %s", run, q.by, c.Key, reason)
				}
			}
			if len(q.by) == 1 && l.Table(q.consenting, nil)[0].Status == Published {
				if n := hidden(cells); n == 1 {
					t.Fatalf("run %d, by %v: one suppressed cell beside a published total: %v", run, q.by, statuses(cells))
				}
			}
			if len(q.by) == 2 && !(q.by[0] == Province && q.by[1] == District) {
				for _, line := range lines(cells, q.by) {
					if len(line) > 1 && hidden(line) == 1 {
						t.Fatalf("run %d, by %v: a row or column with exactly one suppressed cell: %v", run, q.by, statuses(line))
					}
				}
			}
			if q.by[len(q.by)-1] == District {
				// Districts nest in provinces: within each province of a
				// published parent, never exactly one suppressed district.
				for _, line := range byParent(cells, q.by) {
					if len(line) > 1 && hidden(line) == 1 {
						t.Fatalf("run %d, by %v: exactly one suppressed district in a province: %v", run, q.by, statuses(line))
					}
				}
			}
		}
		if x := l.solvable(); x >= 0 {
			c := l.cells[x]
			t.Fatalf("run %d: suppressed cell %v (table %d, %s) can be solved for from the published figures",
				run, c.key, c.table, c.status)
		}
	}
	if published == 0 || secondary == 0 {
		t.Fatalf("the populations never exercised every outcome: %d published, %d suppressed (%d secondary)", published, suppressed, secondary)
	}
	t.Logf("%d populations: %d cells published, %d suppressed (%d secondary)", n, published, suppressed, secondary)
}

// breaks says which rule a group of workers breaks, "" for none.
func breaks(m []Worker, r Rules) string {
	byGroup := map[uuid.UUID]int64{}
	for _, w := range m {
		byGroup[w.Group] += w.Earned
	}
	if len(m) < r.MinWorkers {
		return fmt.Sprintf("has %d workers", len(m))
	}
	if len(byGroup) < r.MinGroups {
		return fmt.Sprintf("spans %d groups", len(byGroup))
	}
	var total, top int64
	for _, e := range byGroup {
		if e > 0 {
			total += e
			top = max(top, e)
		}
	}
	if total > 0 && top*10000 > r.DominanceBPS*total {
		return fmt.Sprintf("is dominated: one group earns %d of %d", top, total)
	}
	return ""
}

func sum(ws []Worker, f func(Worker) int64) int64 {
	var n int64
	for _, w := range ws {
		n += f(w)
	}
	return n
}

func hidden(cs []Cell) int {
	n := 0
	for _, c := range cs {
		if c.Status != Published {
			n++
		}
	}
	return n
}

func statuses(cs []Cell) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%v:%d:%s ", c.Key, c.Workers, c.Status)
	}
	return b.String()
}

// lines are the rows and the columns of a two-way table.
func lines(cs []Cell, by []Dimension) [][]Cell {
	var out [][]Cell
	for _, fixed := range by {
		groups := map[string][]Cell{}
		var order []string
		for _, c := range cs {
			v := c.Key[fixed]
			if _, ok := groups[v]; !ok {
				order = append(order, v)
			}
			groups[v] = append(groups[v], c)
		}
		for _, v := range order {
			out = append(out, groups[v])
		}
	}
	return out
}

// byParent groups a district table's cells by everything but the district.
func byParent(cs []Cell, by []Dimension) [][]Cell {
	groups := map[string][]Cell{}
	for _, c := range cs {
		var k []string
		for d, v := range c.Key {
			if d != District {
				k = append(k, string(d)+"="+v)
			}
		}
		slices.Sort(k)
		groups[strings.Join(k, ",")] = append(groups[strings.Join(k, ",")], c)
	}
	var out [][]Cell
	for _, g := range groups {
		out = append(out, g)
	}
	return out
}

// solvable returns a suppressed cell whose value the published cells and
// relations determine, or -1. Each relation says parent = Σ children; with
// the published figures moved aside it is a linear equation in the
// suppressed cells. A cell is determined exactly when its unit vector lies
// in the span of those equations: after reducing them to row echelon form,
// when some row has its only non-zero entry in the cell's column. The
// arithmetic is modulo a large prime, which for these small integer
// systems gives the rational answer.
func (l *Lattice) solvable() int {
	const p = 1_000_000_007
	col := map[int]int{}
	var unknown []int
	for i, c := range l.cells {
		if c.status != Published || l.tables[c.table].hidden { // a reader does not know it
			col[i] = len(unknown)
			unknown = append(unknown, i)
		}
	}
	var rows [][]int64
	for _, r := range l.relations {
		row := make([]int64, len(unknown))
		has := false
		if j, ok := col[r.parent]; ok {
			row[j] = p - 1
			has = true
		}
		for _, ci := range r.children {
			if j, ok := col[ci]; ok {
				row[j] = (row[j] + 1) % p
				has = true
			}
		}
		if has {
			rows = append(rows, row)
		}
	}
	inv := func(a int64) int64 { // a^(p-2)
		r, b, e := int64(1), a%p, int64(p-2)
		for e > 0 {
			if e&1 == 1 {
				r = r * b % p
			}
			b = b * b % p
			e >>= 1
		}
		return r
	}
	rank := 0
	for c := 0; c < len(unknown) && rank < len(rows); c++ {
		piv := -1
		for r := rank; r < len(rows); r++ {
			if rows[r][c] != 0 {
				piv = r
				break
			}
		}
		if piv < 0 {
			continue
		}
		rows[rank], rows[piv] = rows[piv], rows[rank]
		f := inv(rows[rank][c])
		for j := range rows[rank] {
			rows[rank][j] = rows[rank][j] * f % p
		}
		for r := range rows {
			if r != rank && rows[r][c] != 0 {
				m := rows[r][c]
				for j := range rows[r] {
					rows[r][j] = ((rows[r][j]-m*rows[rank][j])%p + p) % p
				}
			}
		}
		rank++
	}
	for _, row := range rows[:rank] {
		nz, at := 0, -1
		for j, v := range row {
			if v != 0 {
				nz++
				at = j
			}
		}
		if nz == 1 && l.cells[unknown[at]].status != Published {
			return unknown[at]
		}
	}
	return -1
}

// bigNetwork is a network of the size the statistics must stay quick for:
// districts across every province, hundreds of groups, thousands of
// workers, most of them consenting.
func bigNetwork(rng *rand.Rand, districts, groups, workers int) ([]Worker, Domains) {
	d := Domains{Genders: []string{"woman", "man", "transgender", "undisclosed"},
		Provinces:        []string{"punjab", "sindh", "khyber_pakhtunkhwa", "balochistan", "gilgit_baltistan", "azad_kashmir", "islamabad"},
		DistrictProvince: map[string]string{}}
	for i := range districts {
		p := d.Provinces[i%len(d.Provinces)]
		k := DistrictKey(p, fmt.Sprintf("District %d", i))
		d.Districts = append(d.Districts, k)
		d.DistrictProvince[k] = p
	}
	gs := make([]uuid.UUID, groups)
	home := make([]string, groups)
	for i := range gs {
		gs[i], home[i] = uuid.New(), d.Districts[rng.IntN(len(d.Districts))]
	}
	ws := make([]Worker, workers)
	for i := range ws {
		g := rng.IntN(groups)
		w := Worker{Group: gs[g], District: home[g], Province: d.DistrictProvince[home[g]], Gender: d.Genders[min(rng.IntN(8), 3)],
			Earned: int64(rng.IntN(300000)), Minutes: int64(rng.IntN(4000)), Benchmark: 19230, AgeBand: NotRecorded, Disability: NotRecorded}
		if rng.IntN(4) > 0 {
			w.Consenting = true
			w.AgeBand = AgeBands[rng.IntN(len(AgeBands))]
			w.Disability = []string{WithDisability, WithoutDisability, WithoutDisability, NotRecorded}[rng.IntN(4)]
		}
		ws[i] = w
	}
	return ws, d
}

// BenchmarkBuild: the whole lattice of a large network, suppressed and
// audited, as every request computes it.
func BenchmarkBuild(b *testing.B) {
	for _, size := range []struct{ districts, groups, workers int }{{20, 40, 1000}, {60, 150, 5000}, {150, 400, 20000}} {
		b.Run(fmt.Sprintf("%dd-%dg-%dw", size.districts, size.groups, size.workers), func(b *testing.B) {
			ws, d := bigNetwork(rand.New(rand.NewPCG(1, 2)), size.districts, size.groups, size.workers)
			for b.Loop() {
				Build(ws, d, DefaultRules)
			}
		})
	}
}

// A province listed with no district is empty by the shape of the tables
// (the districts add up to every worker), whatever the data: the check
// leaves it be rather than hiding cells for nothing, and it stays
// suppressed.
func TestCellsTheShapeDeterminesAreLeftBe(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		ws, d := population(rng)
		d.Provinces = append(d.Provinces, "islamabad")
		l := Build(ws, d, DefaultRules)
		for _, c := range l.Table(false, []Dimension{Province}) {
			if c.Key[Province] == "islamabad" && (c.Status == Published || c.Workers != 0) {
				t.Fatalf("the empty province: %+v", c)
			}
		}
	}
}
