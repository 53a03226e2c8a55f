package catalog

import (
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
	join       string // what the conditions need joined, if anything
	all, title cond   // every word anywhere; every word in the title
}

// searchEngine is a search's SQL on one database, chosen once in New:
// PostgreSQL's in search_postgres.go, SQLite's in search_sqlite.go.
type searchEngine interface {
	// matcher is the conditions under which a product matches words.
	matcher(words [][]string) matcher
	// similar returns a function that gives the indexed words most like a
	// word (at most maxNear, at least minSimilarity alike, most alike first).
	similar(db *gorm.DB) (func(w string) ([]string, error), error)
}

var searchEngines = map[models.Dialect]searchEngine{models.Postgres: postgresSearch{}, models.SQLite: sqliteSearch{}}

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
	near, err := s.search.similar(db)
	if err != nil {
		return nil, err
	}
	out := exact(words)
	for i, w := range words {
		if len([]rune(w)) < 4 {
			continue
		}
		more, err := near(w)
		if err != nil {
			return nil, err
		}
		out[i] = append(out[i], more...)
	}
	return out, nil
}

const (
	minSimilarity = 0.45
	maxNear       = 5
)

// found reports whether words match anything published.
func (s *Service) found(db *gorm.DB, words [][]string) (bool, error) {
	m := s.search.matcher(words)
	var found bool
	err := db.Raw("SELECT EXISTS (SELECT 1 FROM products p "+m.join+" WHERE "+published+" AND ("+m.all.sql+"))",
		m.all.args...).Scan(&found).Error
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
		m := s.search.matcher(words)
		out := make([]Item, 0, l.limit+1)
		classes := make([]int, 0, l.limit+1)
		for c := class; c <= 1 && len(out) <= l.limit; c++ {
			q := s.selectListed(l, m.join)
			if c == 0 {
				q.and(m.title.sql, m.title.args...)
			} else {
				q.and(m.all.sql, m.all.args...)
				q.andNot(m.title.sql, m.title.args...)
			}
			if l.cursor != "" && c == class {
				q.and(after(orders[SortRelevance]), t.UTC(), id)
			}
			q.orderLimit(orderBy(orders[SortRelevance]), l.limit+1-len(out), false)
			rows, err := s.items(db.Statement.Context, q)
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

// tokens splits a query into lower-case words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}
