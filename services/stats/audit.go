package stats

import "slices"

// The exact check behind the suppression: can a reader who has every
// published table solve for a hidden cell? Each relation says that a cell
// is the sum of the cells it holds in a finer table; with the published
// figures moved to one side, it is a linear equation in the unknown cells
// (the hidden ones, and those of tables no answer shows). A hidden cell is
// given away exactly when its unit vector lies in the span of the
// equations: in the reduced row echelon form of the equations, some row
// then has its only non-zero entry in the cell's column. The arithmetic is
// modulo a prime near 2^31: the equations' coefficients are 1 and -1, and
// a dependency that holds over the rationals holds modulo the prime.
// Non-negativity (a hidden cell lies between 0 and a published total) is
// not taken into account: the check prevents exact disclosure, not bounds.

const prime = 2147483647 // 2^31 - 1

// known reports whether a reader of the published tables knows the cell.
func (l *Lattice) known(ci int) bool {
	c := &l.cells[ci]
	return c.status == Published && !l.tables[c.table].hidden
}

// determined returns a hidden cell of the universe (all workers, or the
// consenting ones) that the published figures determine, or -1; cells in
// skip are not returned.
func (l *Lattice) determined(consenting bool, skip map[int]bool) int {
	col := map[int]int{}
	var cellOf []int
	var eqs [][]int // each equation's unknown cells, the parent first when unknown
	var parentUnknown []bool
	for _, rel := range l.relations {
		if !rel.adjacent || l.tables[l.cells[rel.parent].table].consenting != consenting {
			continue
		}
		var eq []int
		pu := !l.known(rel.parent)
		if pu {
			eq = append(eq, rel.parent)
		}
		for _, ci := range rel.children {
			if !l.known(ci) {
				eq = append(eq, ci)
			}
		}
		if len(eq) == 0 {
			continue
		}
		for _, ci := range eq {
			if _, ok := col[ci]; !ok {
				col[ci] = len(cellOf)
				cellOf = append(cellOf, ci)
			}
		}
		eqs = append(eqs, eq)
		parentUnknown = append(parentUnknown, pu)
	}
	rows := make([][]uint64, len(eqs))
	for i, eq := range eqs {
		row := make([]uint64, len(cellOf))
		for j, ci := range eq {
			if j == 0 && parentUnknown[i] {
				row[col[ci]] = prime - 1
			} else {
				row[col[ci]] = 1
			}
		}
		rows[i] = row
	}
	rank := reduce(rows, len(cellOf))
	for _, row := range rows[:rank] {
		at, n := -1, 0
		for j, v := range row {
			if v != 0 {
				at, n = j, n+1
				if n > 1 {
					break
				}
			}
		}
		if n == 1 && l.cells[cellOf[at]].status != Published && !skip[cellOf[at]] {
			return cellOf[at]
		}
	}
	return -1
}

// reduce brings rows to reduced row echelon form modulo prime, in place,
// and returns the rank: the first rank rows are the non-zero ones.
func reduce(rows [][]uint64, cols int) int {
	rank := 0
	var nz []int
	for c := 0; c < cols && rank < len(rows); c++ {
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
		p := rows[rank]
		f := inverse(p[c])
		nz = nz[:0]
		for j := c; j < cols; j++ {
			if p[j] != 0 {
				p[j] = p[j] * f % prime
				nz = append(nz, j)
			}
		}
		for r := range rows {
			m := rows[r][c]
			if r == rank || m == 0 {
				continue
			}
			row, neg := rows[r], prime-m
			for _, j := range nz {
				row[j] = (row[j] + neg*p[j]) % prime
			}
		}
		rank++
	}
	return rank
}

// inverse is a's inverse modulo prime: a^(prime-2).
func inverse(a uint64) uint64 {
	r, b, e := uint64(1), a%prime, uint64(prime-2)
	for e > 0 {
		if e&1 == 1 {
			r = r * b % prime
		}
		b = b * b % prime
		e >>= 1
	}
	return r
}

// breaker is the cell to hide so that x can no longer be solved for: the
// smallest published cell of the relations nearest to x (those holding x,
// else those holding their unknown cells, and so on); -1 when no published
// cell is related to x at all. Then the equations that determine x hold no
// published figure: x follows from the shape of the tables alone (a value
// with no worker possible, known to anyone whatever the data), and there is
// nothing to protect.
func (l *Lattice) breaker(x int) int {
	seen := map[int]bool{x: true}
	layer := []int{x}
	for len(layer) > 0 {
		var candidates, next []int
		for _, ci := range layer {
			for _, r := range l.cells[ci].relations {
				rel := l.relations[r]
				for _, m := range append([]int{rel.parent}, rel.children...) {
					if seen[m] {
						continue
					}
					seen[m] = true
					if l.known(m) {
						candidates = append(candidates, m)
					} else {
						next = append(next, m)
					}
				}
			}
		}
		if len(candidates) > 0 {
			return slices.MinFunc(candidates, l.smaller)
		}
		layer = next
	}
	return -1
}
