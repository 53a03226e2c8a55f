package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

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

// Item is one product in the catalogue, with its group.
type Item struct {
	models.Product
	GroupName     string
	GroupDistrict string
}

// order is one sort: its SQL key column, direction, and how to read a cursor key.
type order struct {
	column string
	desc   bool
}

var orders = map[string]order{
	SortNewest:       {"p.published_at", true},
	SortPriceAsc:     {"p.price", false},
	SortPriceDesc:    {"p.price", true},
	SortArtisanShare: {"p.artisan_share_bps", true},
	SortRelevance:    {"score", true},
}

// List returns published products matching q, in q.Sort order (relevance
// when searching, newest otherwise), with keyset pagination on (sort key, id)
// so pages never skip or repeat an item while products are being added.
// Every list is one query. Errors: bad_request for an unknown or malformed
// filter, sort or cursor.
func (s *Service) List(ctx context.Context, q Query) ([]Item, string, error) {
	db := s.db.WithContext(ctx)
	var scope strings.Builder
	tx := db.Table("products p").Select(listColumns).
		Joins("JOIN producer_groups g ON g.id = p.group_id").Where(published)

	sort := q.Sort
	search := strings.TrimSpace(q.Q)
	if sort == "" || (sort == SortRelevance && search == "") {
		sort = SortNewest
		if search != "" {
			sort = SortRelevance
		}
	}
	ord, ok := orders[sort]
	if !ok {
		return nil, "", services.BadRequest("sort must be relevance, newest, price_asc, price_desc or artisan_share_desc")
	}
	if len([]rune(search)) > 200 {
		return nil, "", services.BadRequest("q must be at most 200 characters")
	}
	if q.Category != "" {
		var n int64
		if err := db.Model(&models.Category{}).Where("slug = ?", q.Category).Count(&n).Error; err != nil {
			return nil, "", err
		}
		if n == 0 {
			return nil, "", services.BadRequest("category %q is unknown; see GET /api/v1/categories", q.Category)
		}
		tx = tx.Where("p.category = ?", q.Category)
	}
	if q.Province != "" {
		if !models.Province(q.Province).Valid() {
			return nil, "", services.BadRequest("province %q is not one of punjab, sindh, khyber_pakhtunkhwa, balochistan, gilgit_baltistan, azad_kashmir, islamabad", q.Province)
		}
		tx = tx.Where("p.province = ?", q.Province)
	}
	if d := strings.ToLower(strings.TrimSpace(q.District)); d != "" {
		tx = tx.Where("p.district_key = ?", d)
	}
	if q.GroupID != "" {
		id, err := uuid.Parse(q.GroupID)
		if err != nil {
			return nil, "", services.BadRequest("group_id is not a UUID")
		}
		tx = tx.Where("p.group_id = ?", id)
	}
	if q.Currency != "" && q.Currency != s.opt.Currency {
		return nil, "", services.BadRequest("currency must be %s: this marketplace prices everything in it", s.opt.Currency)
	}
	for _, bound := range []struct{ raw, name, op string }{{q.MinPrice, "min_price", ">="}, {q.MaxPrice, "max_price", "<="}} {
		if bound.raw == "" {
			continue
		}
		n, err := strconv.ParseInt(bound.raw, 10, 64)
		if err != nil || n < 0 {
			return nil, "", services.BadRequest("%s must be a whole number of minor units (paisa), 0 or more", bound.name)
		}
		tx = tx.Where("p.price "+bound.op+" ?", n)
	}
	for _, flag := range []struct{ raw, name, cond string }{
		{q.InStock, "in_stock", "p.stock > 0"}, {q.FairWage, "fair_wage", "p.meets_wage_benchmark = TRUE"}} {
		switch flag.raw {
		case "", "false":
		case "true":
			tx = tx.Where(flag.cond)
		default:
			return nil, "", services.BadRequest("%s must be true or false", flag.name)
		}
	}
	fmt.Fprintf(&scope, "products|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", sort, search, q.Category, q.Province,
		strings.ToLower(strings.TrimSpace(q.District)), q.GroupID, q.MinPrice, q.MaxPrice, q.InStock, q.FairWage)

	// A relevance cursor also holds whether its first page matched misspellings.
	var fuzzy *bool
	var cursorScore float64
	var cursorID uuid.UUID
	if sort == SortRelevance && q.Cursor != "" {
		var f bool
		if err := s.cursor.Decode(q.Cursor, scope.String(), &f, &cursorScore, &cursorID); err != nil {
			return nil, "", err
		}
		fuzzy = &f
	}
	usedFuzzy := false
	if search != "" {
		var err error
		if tx, usedFuzzy, err = s.matching(db, tx, search, fuzzy); err != nil {
			return nil, "", err
		}
	}
	cmp := ">"
	dir := "ASC"
	if ord.desc {
		cmp, dir = "<", "DESC"
	}
	if q.Cursor != "" {
		var id uuid.UUID
		var key any
		switch sort {
		case SortNewest:
			var t time.Time
			if err := s.cursor.Decode(q.Cursor, scope.String(), &t, &id); err != nil {
				return nil, "", err
			}
			key = t.UTC()
		case SortRelevance:
			key, id = cursorScore, cursorID
		default:
			var n int64
			if err := s.cursor.Decode(q.Cursor, scope.String(), &n, &id); err != nil {
				return nil, "", err
			}
			key = n
		}
		tx = db.Table("(?) AS c", tx).Select("*").Where(fmt.Sprintf("(c.%s, c.id) %s (?, ?)", column(ord), cmp), key, id)
		tx = tx.Order(fmt.Sprintf("c.%s %s, c.id %s", column(ord), dir, dir))
	} else {
		tx = tx.Order(fmt.Sprintf("%s %s, p.id %s", ord.column, dir, dir))
	}
	var rows []struct {
		Item
		Score float64
	}
	if err := tx.Limit(q.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		switch sort {
		case SortNewest:
			next = s.cursor.Encode(scope.String(), last.PublishedAt.UTC(), last.ID)
		case SortRelevance:
			next = s.cursor.Encode(scope.String(), usedFuzzy, last.Score, last.ID)
		case SortPriceAsc, SortPriceDesc:
			next = s.cursor.Encode(scope.String(), last.Price, last.ID)
		case SortArtisanShare:
			next = s.cursor.Encode(scope.String(), last.ArtisanShareBPS, last.ID)
		}
	}
	out := make([]Item, len(rows))
	for i, r := range rows {
		out[i] = r.Item
	}
	return out, next, nil
}

// published selects the public catalogue. It is written into the SQL, not
// bound, so that PostgreSQL can match the partial indexes (WHERE status =
// 'published') with prepared statements' generic plans too.
const published = "p.status = '" + models.ProductPublished + "'"

// listColumns are what a catalogue item shows, and no more: the search
// columns (text and tsvector) are the largest of a row.
const listColumns = `p.id, p.group_id, p.title, p.category, p.images, p.currency, p.price, p.stock,
	p.artisan_share_bps, p.meets_wage_benchmark, p.status, p.province, p.published_at,
	g.name AS group_name, g.district AS group_district`

// column is an order's column as seen from the wrapping subquery.
func column(o order) string { return strings.TrimPrefix(o.column, "p.") }

// Category is a catalogue category with its count of published products.
type Category struct {
	models.Category
	ProductCount int64
}

// Categories lists every category in display order with its count of
// published products, in one query.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	err := s.db.WithContext(ctx).Table("categories c").
		Select("c.*, (SELECT count(*) FROM products p WHERE p.category = c.slug AND " + published + ") AS product_count").
		Order("c.position").Scan(&out).Error
	return out, err
}
