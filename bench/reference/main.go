// Command reference is the bare yardstick for Karigar's catalogue: net/http
// and a pgx pool running exactly the SQL that Karigar's catalogue list
// (GET /api/v1/products?category=C&limit=N) and search (?q=WORD&limit=N)
// send (same columns, join, filter, order, limit, and the same second class
// of a search when the title class does not fill the page), rendering the
// same JSON shape with a signed next_cursor. bench/run measures Karigar
// against it side by side; the ratio is what counts, not either figure.
//
//	KARIGAR_DATABASE_URL=postgres://… go run ./bench/reference -addr 127.0.0.1:18081
//
// It serves GET /api/v1/products with category, q and limit only: what the
// benchmark asks. Keep its SQL in step with services/catalog (list.go,
// search.go, search_postgres.go) when that changes.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The statements Karigar's catalogue sends (services/catalog), with
// PostgreSQL placeholders. The last two are a search's title class and its
// other class.
const columns = `SELECT p.id, p.group_id, p.title, p.category, p.images, p.currency, p.price, p.stock,
	p.artisan_share_bps, p.meets_wage_benchmark, p.status, p.province, p.published_at,
	g.name AS group_name, g.district AS group_district,
	(SELECT i.thumb_key FROM product_images i WHERE i.product_id = p.id AND i.position = 0) AS thumb_key
	FROM products p JOIN producer_groups g ON g.id = p.group_id WHERE p.status = 'published'`

// A list binds its LIMIT; a search writes it into the SQL,
// as Karigar does: on PostgreSQL's cached generic plans the two differ.
const (
	listSQL   = columns + ` AND (p.category = $1) ORDER BY p.published_at DESC, p.id DESC LIMIT $2`
	titleSQL  = columns + ` AND (p.search_vector @@ to_tsquery('english', $1)) ORDER BY p.published_at DESC, p.id DESC LIMIT `
	othersSQL = columns + ` AND (p.search_vector @@ to_tsquery('english', $1)) AND NOT (p.search_vector @@ to_tsquery('english', $2))
	ORDER BY p.published_at DESC, p.id DESC LIMIT `
)

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type group struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	District string `json:"district"`
	Province string `json:"province"`
}

type item struct {
	ID                 string     `json:"id"`
	Title              string     `json:"title"`
	Category           string     `json:"category"`
	Images             []string   `json:"images"`
	ThumbnailURL       *string    `json:"thumbnail_url"`
	Price              money      `json:"price"`
	InStock            bool       `json:"in_stock"`
	Status             string     `json:"status"`
	ArtisanShareBPS    int        `json:"artisan_share_bps"`
	MeetsWageBenchmark bool       `json:"meets_wage_benchmark"`
	Group              group      `json:"group"`
	PublishedAt        *time.Time `json:"published_at"`
}

type page struct {
	Data       []item  `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

type server struct {
	pool   *pgxpool.Pool
	key    []byte
	public string
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	conns := flag.Int("conns", 20, "pool size (Karigar's default is 20)")
	flag.Parse()
	cfg, err := pgxpool.ParseConfig(os.Getenv("KARIGAR_DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = int32(*conns), int32(*conns)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	s := &server{pool: pool, key: []byte("reference cursor key"), public: "http://localhost:8080"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/products", s.products)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func (s *server) products(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 20
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, `{"error":{"code":"bad_request"}}`, http.StatusBadRequest)
			return
		}
		limit = n
	}
	ctx := r.Context()
	var items []item
	var err error
	scope := "products|" + q.Get("category") + "|" + q.Get("q")
	if words := tokens(q.Get("q")); len(words) > 0 {
		all, title := tsQuery(words, ""), tsQuery(words, ":A")
		items, err = s.query(ctx, titleSQL+strconv.Itoa(limit+1), title)
		if err == nil && len(items) <= limit {
			var more []item
			more, err = s.query(ctx, othersSQL+strconv.Itoa(limit+1-len(items)), all, title)
			items = append(items, more...)
		}
	} else {
		items, err = s.query(ctx, listSQL, q.Get("category"), limit+1)
	}
	if err != nil {
		log.Print(err)
		http.Error(w, `{"error":{"code":"internal"}}`, http.StatusInternalServerError)
		return
	}
	out := page{Data: items}
	if len(items) > limit {
		out.Data = items[:limit]
		last := out.Data[limit-1]
		c := s.cursor(scope, last.PublishedAt, last.ID)
		out.NextCursor = &c
	}
	if out.Data == nil {
		out.Data = []item{}
	}
	var body bytes.Buffer
	_ = json.NewEncoder(&body).Encode(out)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	// Karigar gzips answers over a kilobyte for clients that accept it (and
	// vegeta's Go client does), so the reference sends the same bytes.
	if body.Len() <= 1024 || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		_, _ = w.Write(body.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	_, _ = zw.Write(body.Bytes())
	_ = zw.Close()
	gzipWriters.Put(zw)
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func (s *server) query(ctx context.Context, sql string, args ...any) ([]item, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	var out []item
	for rows.Next() {
		var (
			it           item
			id, groupID  [16]byte
			province     string
			thumb        *string
			published    *time.Time
			stock, share int64
		)
		if err := rows.Scan(&id, &groupID, &it.Title, &it.Category, &it.Images, &it.Price.Currency, &it.Price.Amount,
			&stock, &share, &it.MeetsWageBenchmark, &it.Status, &province, &published,
			&it.Group.Name, &it.Group.District, &thumb); err != nil {
			rows.Close()
			return nil, err
		}
		it.ID, it.Group.ID, it.Group.Province = uuidString(id), uuidString(groupID), province
		it.InStock, it.ArtisanShareBPS = stock > 0, int(share)
		if it.Images == nil {
			it.Images = []string{}
		}
		if thumb != nil {
			u := s.public + "/media/" + *thumb
			it.ThumbnailURL = &u
		}
		if published != nil {
			t := published.UTC()
			it.PublishedAt = &t
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// cursor is signed as Karigar's are (services/page): the query's scope and
// the last item's keys, with an HMAC.
func (s *server) cursor(scope string, t *time.Time, id string) string {
	body, _ := json.Marshal(struct {
		S string `json:"s"`
		K []any  `json:"k"`
	}{scope, []any{t, id}})
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func uuidString(b [16]byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// tokens and tsQuery are services/catalog's: lower-case words of letters
// and digits, each quoted, all required.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

func tsQuery(words []string, suffix string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "('" + w + "'" + suffix + ")"
	}
	return strings.Join(parts, " & ")
}
