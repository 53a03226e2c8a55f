package catalog

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// Relevance, the order of a search, is by class: first the products whose
// title holds every word of the query, then those that hold them elsewhere
// (description, materials, Urdu name, group, category), each class newest
// first. Both classes are read in the order of the newest-first index, so a
// page costs the same whether a word matches ten products or ten thousand:
// ranking every match by a score (ts_rank) reads and scores all of them
// before the first twenty are known.
//
// Misspellings: when the words as typed match nothing, each word of four
// letters or more is widened to the indexed words most like it (trigram
// similarity of at least 0.45, as pg_trgm computes it; up to five), and the
// same search runs again. A next page keeps its first page's mode, which
// the cursor carries.
//
// PostgreSQL: full-text search over a weighted tsvector (title A, the rest
// C; GIN index), the title class being the query with every word weighted A;
// the words most like a misspelt one come from search_words (title words,
// trigram index). SQLite: FTS5 with the porter stemmer, the title class being
// the query on the title column; the words most like a misspelt one come from
// the FTS5 vocabulary, compared in Go.

// matcher is a search's conditions in one engine's SQL. words holds, for
// each word of the query, the forms any one of which it may match.
type matcher struct {
	join       func(*gorm.DB) *gorm.DB // what the conditions need joined
	all, title cond                    // every word anywhere; every word in the title
}

func (s *Service) matcher(db *gorm.DB, words [][]string) matcher {
	if models.DialectOf(db) == models.Postgres {
		const match = "p.search_vector @@ to_tsquery('english', ?)"
		return matcher{
			join:  func(tx *gorm.DB) *gorm.DB { return tx },
			all:   cond{match, []any{tsQuery(words, "")}},
			title: cond{match, []any{tsQuery(words, ":A")}},
		}
	}
	const in = "ps.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)"
	q := ftsQuery(words)
	return matcher{
		join:  func(tx *gorm.DB) *gorm.DB { return tx.Joins("JOIN product_search ps ON ps.product_id = p.id") },
		all:   cond{in, []any{q}},
		title: cond{in, []any{"{title} : (" + q + ")"}},
	}
}

// exact is words as typed, each its only form.
func exact(words []string) [][]string {
	out := make([][]string, len(words))
	for i, w := range words {
		out[i] = []string{w}
	}
	return out
}

// widened is words, each of four letters or more with the indexed words most like it.
func (s *Service) widened(db *gorm.DB, words []string) ([][]string, error) {
	pg := models.DialectOf(db) == models.Postgres
	var vocab []string
	if !pg {
		if err := db.Raw("SELECT term FROM products_vocab").Scan(&vocab).Error; err != nil {
			return nil, err
		}
	}
	out := exact(words)
	for i, w := range words {
		if len([]rune(w)) < 4 {
			continue
		}
		var near []string
		if pg {
			// % narrows through the trigram index; its default threshold (0.3) is below ours.
			if err := db.Raw(`SELECT word FROM search_words WHERE word % ? AND word <> ? AND similarity(word, ?) >= ?
				ORDER BY similarity(word, ?) DESC, word LIMIT ?`, w, w, w, minSimilarity, w, maxNear).Scan(&near).Error; err != nil {
				return nil, err
			}
		} else {
			near = nearest(w, vocab, maxNear)
		}
		out[i] = append(out[i], near...)
	}
	return out, nil
}

const (
	minSimilarity = 0.45
	maxNear       = 5
)

// found reports whether words match anything published.
func (s *Service) found(db *gorm.DB, words [][]string) (bool, error) {
	m := s.matcher(db, words)
	var found bool
	err := db.Raw("SELECT EXISTS (?)", m.join(db.Table("products p").Select("1").Where(published)).
		Where(m.all.sql, m.all.args...)).Scan(&found).Error
	return found, err
}

// searchWords is the forms the words of a search match: as typed if that
// finds anything (or fuzzy is false), else widened. nil fuzzy decides.
func (s *Service) searchWords(db *gorm.DB, words []string, fuzzy *bool) ([][]string, bool, error) {
	if fuzzy == nil {
		ok, err := s.found(db, exact(words))
		if err != nil {
			return nil, false, err
		}
		f := !ok
		fuzzy = &f
	}
	if !*fuzzy {
		return exact(words), false, nil
	}
	w, err := s.widened(db, words)
	return w, true, err
}

// relevant lists a search's matches in relevance order (see above). A
// relevance cursor holds (fuzzy, class, published_at, id).
func (s *Service) relevant(db *gorm.DB, l listing) ([]Item, string, error) {
	var fuzzy bool
	class := 0
	var t time.Time
	var id uuid.UUID
	if l.cursor != "" {
		if err := s.cursor.Decode(l.cursor, l.scope, &fuzzy, &class, &t, &id); err != nil {
			return nil, "", err
		}
	}
	if len(l.words) == 0 {
		return nil, "", nil
	}
	words := exact(l.words)
	if fuzzy {
		var err error
		if words, err = s.widened(db, l.words); err != nil {
			return nil, "", err
		}
	}
	for {
		m := s.matcher(db, words)
		var out []Item
		var classes []int
		for c := class; c <= 1 && len(out) <= l.limit; c++ {
			tx := m.join(s.base(db, l))
			if c == 0 {
				tx = tx.Where(m.title.sql, m.title.args...)
			} else {
				tx = tx.Where(m.all.sql, m.all.args...).Not(m.title.sql, m.title.args...)
			}
			if l.cursor != "" && c == class {
				tx = tx.Where(after(orders[SortRelevance]), t.UTC(), id)
			}
			rows, err := scan(tx.Order(orderBy(orders[SortRelevance])), l.limit+1-len(out))
			if err != nil {
				return nil, "", err
			}
			out = append(out, rows...)
			for range rows {
				classes = append(classes, c)
			}
		}
		// A first page that finds nothing as typed tries again for misspellings.
		if len(out) == 0 && l.cursor == "" && !fuzzy {
			fuzzy = true
			var err error
			if words, err = s.widened(db, l.words); err != nil {
				return nil, "", err
			}
			continue
		}
		if len(out) <= l.limit {
			return out, "", nil
		}
		last := out[l.limit-1]
		return out[:l.limit], s.cursor.Encode(l.scope, fuzzy, classes[l.limit-1], last.PublishedAt.UTC(), last.ID), nil
	}
}

// tsQuery is a to_tsquery text that needs every word in one of its forms,
// each form with suffix (a weight such as ":A", or nothing). Words are
// letters and digits only, so quoting them is enough to keep them literal.
func tsQuery(words [][]string, suffix string) string {
	parts := make([]string, len(words))
	for i, forms := range words {
		alts := make([]string, len(forms))
		for j, f := range forms {
			alts[j] = "'" + f + "'" + suffix
		}
		parts[i] = "(" + strings.Join(alts, " | ") + ")"
	}
	return strings.Join(parts, " & ")
}

// ftsQuery is an FTS5 query that needs every word in one of its forms.
func ftsQuery(words [][]string) string {
	parts := make([]string, len(words))
	for i, forms := range words {
		alts := make([]string, len(forms))
		for j, f := range forms {
			alts[j] = quote(f)
		}
		parts[i] = "(" + strings.Join(alts, " OR ") + ")"
	}
	return strings.Join(parts, " AND ")
}

// tokens splits a query into lower-case words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

func quote(w string) string { return `"` + strings.ReplaceAll(w, `"`, `""`) + `"` }

// nearest returns up to n vocabulary words at least 0.45 similar to w, most similar first.
func nearest(w string, vocab []string, n int) []string {
	type cand struct {
		term string
		sim  float64
	}
	var cs []cand
	tw := trigrams(w)
	for _, v := range vocab {
		if v == w {
			continue
		}
		if sim := similarity(tw, trigrams(v)); sim >= minSimilarity {
			cs = append(cs, cand{v, sim})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].sim != cs[j].sim {
			return cs[i].sim > cs[j].sim
		}
		return cs[i].term < cs[j].term
	})
	out := []string{}
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].term)
	}
	return out
}

// trigrams is pg_trgm's set for one word: "  w" + "w" + " " cut in threes.
func trigrams(w string) map[string]bool {
	r := []rune("  " + w + " ")
	out := map[string]bool{}
	for i := 0; i+3 <= len(r); i++ {
		out[string(r[i:i+3])] = true
	}
	return out
}

func similarity(a, b map[string]bool) float64 {
	common := 0
	for t := range a {
		if b[t] {
			common++
		}
	}
	union := len(a) + len(b) - common
	if union == 0 {
		return 0
	}
	return float64(common) / float64(union)
}
