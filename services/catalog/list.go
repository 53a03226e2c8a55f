package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// Sort orders of the catalogue.
const (
	SortRelevance    = "relevance"
	SortNewest       = "newest"
	SortPriceAsc     = "price_asc"
	SortPriceDesc    = "price_desc"
	SortArtisanShare = "artisan_share_desc"
)

// Query is the catalogue's filters as the caller sent them (query strings);
// List validates them.
type Query struct {
	Q, Category, Province, District, GroupID string
	MinPrice, MaxPrice, Currency             string
	InStock, FairWage, Sort, Cursor          string
	Limit                                    int
}

// Item is one product in the catalogue, with its group and the storage
// key of its first photo's thumbnail (nil when it has no photo).
type Item struct {
	models.Product
	GroupName     string
	GroupDistrict string
	ThumbKey      *string
}

// order is one sort: its SQL key column and direction.
type order struct {
	column string
	desc   bool
}

var orders = map[string]order{
	SortNewest:       {"p.published_at", true},
	SortPriceAsc:     {"p.price", false},
	SortPriceDesc:    {"p.price", true},
	SortArtisanShare: {"p.artisan_share_bps", true},
	SortRelevance:    {"p.published_at", true}, // within a relevance class; see search.go
}

// cond is one SQL condition with its arguments.
type cond struct {
	sql  string
	args []any
}

// listing is a validated catalogue query.
type listing struct {
	sort, search, scope string
	words               []string
	conds               []cond
	limit               int
	cursor              string
}

// List returns published products matching q, in q.Sort order (relevance
// when searching, newest otherwise), with keyset pagination on (sort key, id)
// so pages never skip or repeat an item while products are being added.
// A list is one query, and a search at most three. Errors: bad_request for
// an unknown or malformed filter, sort or cursor.
func (s *Service) List(ctx context.Context, q Query) ([]Item, string, error) {
	db := s.db.WithContext(ctx)
	l, err := s.parse(q)
	if err != nil {
		return nil, "", err
	}
	var items []Item
	var next string
	if l.sort == SortRelevance {
		items, next, err = s.relevant(db, l)
	} else {
		items, next, err = s.sorted(db, l)
	}
	if err != nil {
		return nil, "", err
	}
	// An unknown category can only give an empty page, so it costs a
	// query only then.
	if len(items) == 0 && q.Category != "" {
		var n int64
		if err := db.Model(&models.Category{}).Where("slug = ?", q.Category).Count(&n).Error; err != nil {
			return nil, "", err
		}
		if n == 0 {
			return nil, "", services.BadRequest("category %q is unknown; see GET /api/v1/categories", q.Category)
		}
	}
	return items, next, nil
}

// parse validates q's filters and sort.
func (s *Service) parse(q Query) (listing, error) {
	l := listing{sort: q.Sort, search: strings.TrimSpace(q.Q), limit: q.Limit, cursor: q.Cursor}
	if l.sort == "" || (l.sort == SortRelevance && l.search == "") {
		l.sort = SortNewest
		if l.search != "" {
			l.sort = SortRelevance
		}
	}
	if _, ok := orders[l.sort]; !ok {
		return l, services.BadRequest("sort must be relevance, newest, price_asc, price_desc or artisan_share_desc")
	}
	if len([]rune(l.search)) > 200 {
		return l, services.BadRequest("q must be at most 200 characters")
	}
	l.words = tokens(l.search)
	add := func(sql string, args ...any) { l.conds = append(l.conds, cond{sql, args}) }
	if q.Category != "" {
		add("p.category = ?", q.Category)
	}
	if q.Province != "" {
		if !models.Province(q.Province).Valid() {
			return l, services.BadRequest("province %q is not one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad", q.Province)
		}
		add("p.province = ?", q.Province)
	}
	district := strings.ToLower(strings.TrimSpace(q.District))
	if district != "" {
		add("p.district_key = ?", district)
	}
	if q.GroupID != "" {
		id, err := uuid.Parse(q.GroupID)
		if err != nil {
			return l, services.BadRequest("group_id is not a UUID")
		}
		add("p.group_id = ?", id)
	}
	if q.Currency != "" && q.Currency != s.opt.Currency {
		return l, services.BadRequest("currency must be %s: this marketplace prices everything in it", s.opt.Currency)
	}
	for _, bound := range []struct{ raw, name, op string }{{q.MinPrice, "min_price", ">="}, {q.MaxPrice, "max_price", "<="}} {
		if bound.raw == "" {
			continue
		}
		n, err := strconv.ParseInt(bound.raw, 10, 64)
		if err != nil || n < 0 {
			return l, services.BadRequest("%s must be a whole number of minor units (paisa), 0 or more", bound.name)
		}
		add("p.price "+bound.op+" ?", n)
	}
	for _, flag := range []struct{ raw, name, cond string }{
		{q.InStock, "in_stock", "p.stock > 0"}, {q.FairWage, "fair_wage", "p.meets_wage_benchmark = TRUE"}} {
		switch flag.raw {
		case "", "false":
		case "true":
			add(flag.cond)
		default:
			return l, services.BadRequest("%s must be true or false", flag.name)
		}
	}
	l.scope = fmt.Sprintf("products|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", l.sort, l.search, q.Category, q.Province,
		district, q.GroupID, q.MinPrice, q.MaxPrice, q.InStock, q.FairWage)
	return l, nil
}

// sorted lists in one of the orders of a product column; a search there
// only filters.
func (s *Service) sorted(db *gorm.DB, l listing) ([]Item, string, error) {
	ord := orders[l.sort]
	var q *selectQuery
	if l.search != "" {
		if len(l.words) == 0 {
			return nil, "", nil
		}
		words, _, err := s.searchWords(db, l.words, nil)
		if err != nil {
			return nil, "", err
		}
		m := s.search.matcher(words)
		q = s.selectListed(l, m.join)
		q.and(m.all.sql, m.all.args...)
	} else {
		q = s.selectListed(l, "")
	}
	if l.cursor != "" {
		var id uuid.UUID
		var key any
		if l.sort == SortNewest {
			var t time.Time
			if err := s.cursor.Decode(l.cursor, l.scope, &t, &id); err != nil {
				return nil, "", err
			}
			key = t.UTC()
		} else {
			var n int64
			if err := s.cursor.Decode(l.cursor, l.scope, &n, &id); err != nil {
				return nil, "", err
			}
			key = n
		}
		q.and(after(ord), key, id)
	}
	q.orderLimit(orderBy(ord), l.limit+1, true)
	rows, err := s.items(db.Statement.Context, q)
	if err != nil || len(rows) <= l.limit {
		return rows, "", err
	}
	rows = rows[:l.limit]
	last := rows[len(rows)-1]
	switch l.sort {
	case SortNewest:
		return rows, s.cursor.Encode(l.scope, last.PublishedAt.UTC(), last.ID), nil
	case SortArtisanShare:
		return rows, s.cursor.Encode(l.scope, last.ArtisanShareBPS, last.ID), nil
	default:
		return rows, s.cursor.Encode(l.scope, last.Price, last.ID), nil
	}
}

// after is the keyset condition for the rows after a cursor in order o.
func after(o order) string {
	if o.desc {
		return "(" + o.column + ", p.id) < (?, ?)"
	}
	return "(" + o.column + ", p.id) > (?, ?)"
}

func orderBy(o order) string {
	if o.desc {
		return o.column + " DESC, p.id DESC"
	}
	return o.column + " ASC, p.id ASC"
}

// scanItems reads the rows of a catalogue query (listColumns, in their
// order) by position: gorm's Scan matched every column to a field of Item
// by reflection, which was the largest share of a list's CPU in its profile.
// An Item is large (a product's every column): out is made for the rows
// the query can return, not grown by doubling (a third of a search's
// allocation when it was).
func scanItems(rows *sql.Rows, limit int) ([]Item, error) {
	defer rows.Close()
	out := make([]Item, 0, limit)
	for rows.Next() {
		var (
			it           Item
			images       rawBytes
			published    nullTime
			stock, share int64  // database/sql fills an int through strconv, an int64 directly
			province     string // and a named string type through reflection
		)
		if err := rows.Scan(&it.ID, &it.GroupID, &it.Title, &it.Category, &images, &it.Currency, &it.Price, &stock,
			&share, &it.MeetsWageBenchmark, &it.Status, &province, &published,
			&it.GroupName, &it.GroupDistrict, &it.ThumbKey); err != nil {
			return nil, err
		}
		it.Stock, it.ArtisanShareBPS, it.Province = int(stock), int(share), models.Province(province)
		if len(images) > 0 {
			if err := json.Unmarshal(images, &it.Images); err != nil {
				return nil, fmt.Errorf("product %s: images: %w", it.ID, err)
			}
		}
		if published.valid {
			t := published.t
			it.PublishedAt = &t
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// rawBytes is a column's bytes, from a driver that gives a string or bytes
// (a JSON column: bytes from PostgreSQL, text from SQLite).
type rawBytes []byte

func (b *rawBytes) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*b = nil
	case []byte:
		*b = append((*b)[:0], v...)
	case string:
		*b = append((*b)[:0], v...)
	default:
		return fmt.Errorf("cannot read %T as bytes", v)
	}
	return nil
}

// nullTime is a nullable timestamp as either engine's driver gives it.
type nullTime struct {
	t     time.Time
	valid bool
}

func (n *nullTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err == nil {
		n.t, n.valid = nt.Time, nt.Valid
		return nil
	}
	s, ok := v.(string)
	if !ok {
		if b, isBytes := v.([]byte); isBytes {
			s, ok = string(b), true
		}
	}
	if !ok {
		return fmt.Errorf("cannot read %T as a time", v)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			n.t, n.valid = t, true
			return nil
		}
	}
	return fmt.Errorf("cannot read %q as a time", s)
}

// published selects the public catalogue. It is written into the SQL, not
// bound, so that PostgreSQL can match the partial indexes (WHERE status =
// 'published') with prepared statements' generic plans too.
const published = "p.status = '" + models.ProductPublished + "'"

// listColumns are what a catalogue item shows, and no more: the search
// columns (text and tsvector) are the largest of a row. The first photo's
// thumbnail is a subquery on the unique (product_id, position) index, so
// a list stays one statement.
const listColumns = `p.id, p.group_id, p.title, p.category, p.images, p.currency, p.price, p.stock,
	p.artisan_share_bps, p.meets_wage_benchmark, p.status, p.province, p.published_at,
	g.name AS group_name, g.district AS group_district,
	(SELECT i.thumb_key FROM product_images i WHERE i.product_id = p.id AND i.position = 0) AS thumb_key`

// Category is a catalogue category with its count of published products.
type Category struct {
	models.Category
	ProductCount int64
}

// Categories lists every category in display order with its count of
// published products, in one query.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	// published_count is kept by the products table's trigger (migration
	// 0028): counting here read every published product on each request.
	err := s.db.WithContext(ctx).Table("categories c").
		Select("c.slug, c.name, c.name_ur, c.position, c.published_count AS product_count").
		Order("c.position").Scan(&out).Error
	return out, err
}
