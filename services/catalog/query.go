package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/karigar/karigar/models"
)

// selectQuery is a catalogue SELECT (listColumns of the published products
// with their group) written out directly. Built through gorm, each page
// cloned a statement for every condition, built its clause tree and
// rewrote the placeholders: 8% of a search's CPU in its profile, for SQL
// whose shape depends only on which filters are set.
type selectQuery struct {
	b      strings.Builder
	args   []any
	dollar bool // PostgreSQL's $n placeholders; SQLite's ?
	limit  int
}

// selectListed starts a query of the published products that pass l's
// filters; join is what a search's conditions need joined ("" for none).
func (s *Service) selectListed(l listing, join string) *selectQuery {
	q := &selectQuery{dollar: s.dialect == models.Postgres, args: make([]any, 0, len(l.conds)+4)}
	q.b.Grow(len(listColumns) + 256)
	q.b.WriteString("SELECT " + listColumns + " FROM products p JOIN producer_groups g ON g.id = p.group_id")
	if join != "" {
		q.b.WriteString(" " + join)
	}
	q.b.WriteString(" WHERE " + published)
	for _, c := range l.conds {
		q.and(c.sql, c.args...)
	}
	return q
}

// and adds a condition, its ? placeholders bound to args in order.
func (q *selectQuery) and(sql string, args ...any) {
	q.b.WriteString(" AND (")
	q.write(sql, args)
	q.b.WriteByte(')')
}

// andNot adds a negated condition.
func (q *selectQuery) andNot(sql string, args ...any) {
	q.b.WriteString(" AND NOT (")
	q.write(sql, args)
	q.b.WriteByte(')')
}

// orderLimit ends the query: its order, and a LIMIT of n. bound binds n as
// a parameter on PostgreSQL (see limitTo for why a list does); SQLite and a
// search write it into the SQL.
func (q *selectQuery) orderLimit(order string, n int, bound bool) {
	q.limit = n
	q.b.WriteString(" ORDER BY " + order + " LIMIT ")
	if bound && q.dollar {
		q.write("?", []any{n})
		return
	}
	q.b.WriteString(strconv.Itoa(n))
}

func (q *selectQuery) write(sql string, args []any) {
	for {
		i := strings.IndexByte(sql, '?')
		if i < 0 {
			break
		}
		if len(args) == 0 {
			panic(fmt.Sprintf("catalog: more placeholders than arguments in %q", sql))
		}
		q.b.WriteString(sql[:i])
		q.args = append(q.args, args[0])
		if q.dollar {
			q.b.WriteByte('$')
			q.b.WriteString(strconv.Itoa(len(q.args)))
		} else {
			q.b.WriteByte('?')
		}
		sql, args = sql[i+1:], args[1:]
	}
	if len(args) != 0 {
		panic(fmt.Sprintf("catalog: more arguments than placeholders in %q", sql))
	}
	q.b.WriteString(sql)
}

// items runs q on the pool (the catalogue is never read inside a
// transaction) and reads its rows. Failed and slow statements reach the
// database logger as gorm's own do.
func (s *Service) items(ctx context.Context, q *selectQuery) ([]Item, error) {
	begin := time.Now()
	sql := q.b.String()
	rows, err := s.db.Statement.ConnPool.QueryContext(ctx, sql, q.args...)
	var out []Item
	if err == nil {
		out, err = scanItems(rows, q.limit)
	}
	s.db.Logger.Trace(ctx, begin, func() (string, int64) { return sql, int64(len(out)) }, err)
	return out, err
}
