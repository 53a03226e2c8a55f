package stats

import (
	"slices"
	"strings"

	"github.com/google/uuid"
)

// This file is the pure part of the statistics: the cells of every table
// the service can publish, their figures, and which of them are suppressed.
// It touches no database, so the property tests can run it over thousands
// of random populations.
//
// Every table the service can publish is computed together, as one lattice,
// and each answer is a slice of it. A figure a table hides must not be
// recomputable from another table either (a province's total from the
// table by district, a cell of gender × province from gender × district),
// so the suppression is decided once over all of them: the same data gives
// the same pattern whichever table is asked for.

// Dimension is a way of dividing the workers.
type Dimension string

// The dimensions. A district is always shown with its province: district
// names are not unique across provinces.
const (
	Gender     Dimension = "gender"
	AgeBand    Dimension = "age_band"
	Disability Dimension = "disability"
	Province   Dimension = "province"
	District   Dimension = "district"
)

// dims is the dimensions in the order of a cell's key.
var dims = []Dimension{Gender, AgeBand, Disability, Province, District}

func dimIndex(d Dimension) int { return slices.Index(dims, d) }

const (
	gBit = 1 << iota
	aBit
	xBit
	pBit
	dBit
)

// Status is whether a cell is published.
type Status int

const (
	Published Status = iota
	// Primary: the cell itself is too small, spans too few groups, or one
	// group earns most of it.
	Primary
	// Secondary: hidden so that a primary cell cannot be worked out from
	// the published cells and totals.
	Secondary
)

func (s Status) String() string {
	switch s {
	case Primary:
		return "primary"
	case Secondary:
		return "secondary"
	}
	return ""
}

// Rules are the thresholds of primary suppression.
type Rules struct {
	MinWorkers   int   // fewer workers than this: suppressed (KARIGAR_STATS_MIN_CELL)
	MinGroups    int   // fewer groups than this: suppressed
	DominanceBPS int64 // one group earning more than this share of the cell's earnings: suppressed
}

// DefaultRules are the contract's: 5 workers, 3 groups, 60%.
var DefaultRules = Rules{MinWorkers: 5, MinGroups: 3, DominanceBPS: 6000}

// Worker is one artisan with earnings or work in the period, as the
// statistics see her: her group, where and who she is in the dimensions'
// terms, and her figures.
type Worker struct {
	Group      uuid.UUID
	Gender     string
	Province   string
	District   string // a key of Domains.Districts
	Consenting bool   // she counts in the age and disability tables
	AgeBand    string // with consent: a band, or NotRecorded
	Disability string // with consent: WithDisability, WithoutDisability or NotRecorded
	Earned     int64  // paisa
	Minutes    int64  // labour, net of refunds
	Benchmark  int64  // the hourly wage benchmark of her group's province; 0 when there is none
}

// Values of the age and disability dimensions.
const (
	NotRecorded       = "not_recorded"
	WithDisability    = "with_disability"
	WithoutDisability = "without_disability"
)

// AgeBands are the age dimension's values, youngest first.
var AgeBands = []string{"under_18", "18_24", "25_54", "55_64", "65_plus", NotRecorded}

// Band is the age band of someone born in birthYear, in year.
func Band(birthYear, year int) string {
	switch age := year - birthYear; {
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
}

// Domains are every value each dimension takes, in the order cells are
// listed. Cells are made for every combination, those with no worker too:
// an empty cell is suppressed like any small one, so that the tables never
// tell whether anyone at all is in it.
type Domains struct {
	Genders, Provinces []string
	// Districts are keys; DistrictProvince gives each one's province.
	Districts        []string
	DistrictProvince map[string]string
}

// DistrictKey is how a district is told apart: by its province and its
// name without regard to case or surrounding spaces.
func DistrictKey(province, name string) string {
	return province + "/" + strings.ToLower(strings.TrimSpace(name))
}

// Cell is one cell of a table with its figures and status.
type Cell struct {
	Key           map[Dimension]string
	Workers       int
	Groups        int
	Minutes       int64
	Earned        int64
	WithHours     int   // workers with labour logged
	HourlyAverage int64 // earnings of those with hours × 60 ÷ their minutes; 0 without any
	BelowBPS      int64 // share of those with hours earning below their benchmark
	Status        Status
}

type cell struct {
	table            int
	key              [5]string
	workers          int
	groups           map[uuid.UUID]int64 // earnings by group
	minutes, earned  int64
	hourlyEarned     int64 // earnings of workers with hours
	hourlyMinutes    int64
	withHours, below int
	status           Status
	relations        []int
}

type table struct {
	consenting bool
	mask       int
	cells      []int // in listing order
	index      map[[5]string]int
	// hidden: no answer shows this table (the consenting workers by gender
	// or by place alone); it takes part in the rules, and its cells are
	// unknown to a reader.
	hidden bool
}

type relation struct {
	parent   int
	children []int
	// adjacent: no table of the lattice lies between the parent's and the
	// children's. The other relations follow from these by adding them up.
	adjacent bool
}

// Lattice is every table's cells, their relations (a coarser cell is the
// sum of the finer cells it holds), and after Suppress their status.
type Lattice struct {
	rules     Rules
	cells     []cell
	tables    []table
	relations []relation
}

// allTables are the tables of all workers; consentTables those of the
// workers who consented, which the age and disability tables count, with
// the coarser tables they sum to.
var (
	allTables     = []int{0, gBit, pBit, pBit | dBit, gBit | pBit, gBit | pBit | dBit}
	consentTables = []int{0, aBit, xBit, gBit, pBit, pBit | dBit, aBit | xBit, aBit | gBit, aBit | pBit,
		aBit | pBit | dBit, xBit | gBit, xBit | pBit, xBit | pBit | dBit}
	// unshown are the consenting tables no answer shows.
	unshown = []int{gBit, pBit, pBit | dBit}
)

// Build makes the lattice of ws over the domains and decides every cell's
// status (Suppress).
func Build(ws []Worker, d Domains, r Rules) *Lattice {
	l := &Lattice{rules: r}
	for _, u := range []struct {
		consenting bool
		masks      []int
	}{{false, allTables}, {true, consentTables}} {
		first := len(l.tables)
		for _, m := range u.masks {
			l.addTable(u.consenting, m, d)
		}
		for _, w := range ws {
			if u.consenting && !w.Consenting {
				continue
			}
			k := w.key()
			for t := first; t < len(l.tables); t++ {
				l.add(&l.cells[l.tables[t].index[project(k, l.tables[t].mask)]], w)
			}
		}
		l.relate(first, len(l.tables))
	}
	l.suppress()
	return l
}

func (w Worker) key() [5]string {
	return [5]string{w.Gender, w.AgeBand, w.Disability, w.Province, w.District}
}

// project keeps the dimensions of mask.
func project(k [5]string, mask int) [5]string {
	var out [5]string
	for i := range k {
		if mask&(1<<i) != 0 {
			out[i] = k[i]
		}
	}
	return out
}

func (l *Lattice) addTable(consenting bool, mask int, d Domains) {
	t := table{consenting: consenting, mask: mask, index: map[[5]string]int{}, hidden: consenting && slices.Contains(unshown, mask)}
	keys := [][5]string{{}}
	for i, dim := range dims {
		if mask&(1<<i) == 0 || dim == Province && mask&dBit != 0 {
			continue // a district names its province
		}
		var values []string
		switch dim {
		case Gender:
			values = d.Genders
		case AgeBand:
			values = AgeBands
		case Disability:
			values = []string{WithDisability, WithoutDisability, NotRecorded}
		case Province:
			values = d.Provinces
		case District:
			values = d.Districts
		}
		var next [][5]string
		for _, k := range keys {
			for _, v := range values {
				k := k
				k[i] = v
				if dim == District {
					k[dimIndex(Province)] = d.DistrictProvince[v]
				}
				next = append(next, k)
			}
		}
		keys = next
	}
	for _, k := range keys {
		t.index[k] = len(l.cells)
		t.cells = append(t.cells, len(l.cells))
		l.cells = append(l.cells, cell{table: len(l.tables), key: k, groups: map[uuid.UUID]int64{}})
	}
	l.tables = append(l.tables, t)
}

func (l *Lattice) add(c *cell, w Worker) {
	c.workers++
	c.groups[w.Group] += w.Earned
	c.minutes += w.Minutes
	c.earned += w.Earned
	if w.Minutes > 0 {
		c.withHours++
		c.hourlyEarned += w.Earned
		c.hourlyMinutes += w.Minutes
		if w.Benchmark > 0 && w.Earned*60/w.Minutes < w.Benchmark {
			c.below++
		}
	}
}

// relate records, for every two tables of a universe where one's
// dimensions include the other's, that each cell of the coarser is the sum
// of the cells of the finer that it holds.
func (l *Lattice) relate(first, end int) {
	for p := first; p < end; p++ {
		for c := first; c < end; c++ {
			pm, cm := l.tables[p].mask, l.tables[c].mask
			if p == c || pm&cm != pm {
				continue
			}
			adjacent := true
			for q := first; q < end; q++ {
				qm := l.tables[q].mask
				adjacent = adjacent && (q == p || q == c || pm&qm != pm || qm&cm != qm)
			}
			byParent := map[int][]int{}
			var order []int
			for _, ci := range l.tables[c].cells {
				pi := l.tables[p].index[project(l.cells[ci].key, pm)]
				if _, seen := byParent[pi]; !seen {
					order = append(order, pi)
				}
				byParent[pi] = append(byParent[pi], ci)
			}
			for _, pi := range order {
				r := len(l.relations)
				l.relations = append(l.relations, relation{parent: pi, children: byParent[pi], adjacent: adjacent})
				l.cells[pi].relations = append(l.cells[pi].relations, r)
				for _, ci := range byParent[pi] {
					l.cells[ci].relations = append(l.cells[ci].relations, r)
				}
			}
		}
	}
}

// primary reports whether c must be hidden for itself.
func (l *Lattice) primary(c *cell) bool {
	if c.workers < l.rules.MinWorkers || len(c.groups) < l.rules.MinGroups {
		return true
	}
	var total, top int64
	for _, e := range c.groups {
		if e > 0 {
			total += e
			top = max(top, e)
		}
	}
	return total > 0 && top*10000 > l.rules.DominanceBPS*total
}

// suppress marks the primary cells, then hides further cells until every
// relation is safe: with its parent published, none or at least two of its
// children hidden; with its parent hidden, at least two (a single child is
// the parent itself, and shares its status). So no published sum has
// exactly one hidden part to give away, and every row and column of a
// two-way table has none or several hidden cells. Tables linked through
// their margins and the districts' provinces can still give a hidden cell
// away by combining several sums; an exact check (audit.go) finds such a
// cell, one more cell near it is hidden, and the rules run again, until no
// hidden cell can be solved for.
func (l *Lattice) suppress() {
	for i := range l.cells {
		if l.primary(&l.cells[i]) {
			l.cells[i].status = Primary
		}
	}
	all := make([]int, len(l.relations))
	for r := range all {
		all[r] = r
	}
	l.enforce(all)
	for _, consenting := range []bool{false, true} {
		shape := map[int]bool{} // cells the tables' shape alone determines
		for {
			x := l.determined(consenting, shape)
			if x < 0 {
				break
			}
			if b := l.breaker(x); b >= 0 {
				l.enforce(l.hide(b))
			} else {
				shape[x] = true
			}
		}
	}
}

// hide makes a cell secondary and returns its relations, to be checked again.
func (l *Lattice) hide(ci int) []int {
	l.cells[ci].status = Secondary
	return l.cells[ci].relations
}

// enforce applies the rules to the given relations, and again to every
// relation of a cell it hides, until all are safe.
func (l *Lattice) enforce(work []int) {
	work = slices.Clone(work)
	queued := make([]bool, len(l.relations))
	for _, r := range work {
		queued[r] = true
	}
	hide := func(ci int) {
		for _, r := range l.hide(ci) {
			if !queued[r] {
				queued[r] = true
				work = append(work, r)
			}
		}
	}
	for len(work) > 0 {
		r := work[len(work)-1]
		work = work[:len(work)-1]
		queued[r] = false
		rel := l.relations[r]
		parentHidden := l.cells[rel.parent].status != Published
		if len(rel.children) == 1 {
			child := rel.children[0]
			switch childHidden := l.cells[child].status != Published; {
			case parentHidden && !childHidden:
				hide(child)
			case childHidden && !parentHidden:
				hide(rel.parent)
			}
			continue
		}
		var hidden int
		var shown []int
		for _, ci := range rel.children {
			if l.cells[ci].status != Published {
				hidden++
			} else {
				shown = append(shown, ci)
			}
		}
		if hidden >= 2 || hidden == 0 && !parentHidden {
			continue
		}
		// Hide the smallest published children until two are hidden.
		slices.SortFunc(shown, l.smaller)
		for _, ci := range shown[:2-hidden] {
			hide(ci)
		}
	}
}

// smaller orders cells by the least information lost in hiding them: fewer
// workers, then fewer minutes, then listing order.
func (l *Lattice) smaller(a, b int) int {
	ca, cb := &l.cells[a], &l.cells[b]
	switch {
	case ca.workers != cb.workers:
		return ca.workers - cb.workers
	case ca.minutes != cb.minutes:
		if ca.minutes < cb.minutes {
			return -1
		}
		return 1
	}
	return a - b
}

// Table is the cells of one table, in listing order: consenting says whether
// it counts only the consenting workers, by its dimensions (District
// implies Province). Unknown tables give nil.
func (l *Lattice) Table(consenting bool, by []Dimension) []Cell {
	mask := 0
	for _, d := range by {
		mask |= 1 << dimIndex(d)
		if d == District {
			mask |= pBit
		}
	}
	for _, t := range l.tables {
		if t.consenting != consenting || t.mask != mask {
			continue
		}
		out := make([]Cell, len(t.cells))
		for i, ci := range t.cells {
			out[i] = l.cells[ci].export(mask)
		}
		return out
	}
	return nil
}

func (c *cell) export(mask int) Cell {
	out := Cell{Key: map[Dimension]string{}, Workers: c.workers, Groups: len(c.groups), Minutes: c.minutes,
		Earned: c.earned, WithHours: c.withHours, Status: c.status}
	for i, d := range dims {
		if mask&(1<<i) != 0 {
			out.Key[d] = c.key[i]
		}
	}
	if c.hourlyMinutes > 0 {
		out.HourlyAverage = c.hourlyEarned * 60 / c.hourlyMinutes
	}
	if c.withHours > 0 {
		out.BelowBPS = int64(c.below) * 10000 / int64(c.withHours)
	}
	return out
}
