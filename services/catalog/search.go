package catalog

import (
	"sort"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
)

// matching narrows tx to products that match search and adds their "score"
// (higher first). Scores depend only on the product and the query, never on
// the rest of the catalogue, so they are stable across pages while products
// are added, as keyset pagination needs.
//
// Misspellings are matched only when the words as typed match nothing in the
// catalogue: fuzzy matching reads far more rows than full-text search, and a
// word that is found is not misspelt. fuzzy says which mode to use; nil lets
// matching decide (a next page keeps the mode of its first page).
//
// PostgreSQL: full-text search over a weighted tsvector (title A, the rest
// C; GIN index), score ts_rank; or, fuzzy, pg_trgm's word similarity of the
// query to the title (GIN trigram index), score that similarity.
//
// SQLite: FTS5 with the porter stemmer, score 2 for a title match and 1 for
// a match elsewhere; or, fuzzy, each word of four letters or more also
// matches the indexed words most like it (trigram similarity, as pg_trgm
// computes it), score 0.5.
func (s *Service) matching(db, tx *gorm.DB, search string, fuzzy *bool) (*gorm.DB, bool, error) {
	const cols = listColumns
	pg := models.DialectOf(db) == models.Postgres
	words := tokens(search)
	if !pg && len(words) == 0 {
		return tx.Where("1 = 0"), false, nil
	}
	exactQ := ftsQuery(words, nil)
	if fuzzy == nil {
		var found bool
		var err error
		if pg {
			err = db.Raw(`SELECT EXISTS (SELECT 1 FROM products p WHERE `+published+` AND
				p.search_vector @@ websearch_to_tsquery('english', ?))`, search).Scan(&found).Error
		} else {
			err = db.Raw(`SELECT EXISTS (SELECT 1 FROM products_fts WHERE products_fts MATCH ?)`, exactQ).Scan(&found).Error
		}
		if err != nil {
			return nil, false, err
		}
		notFound := !found
		fuzzy = &notFound
	}
	switch {
	case pg && !*fuzzy:
		return tx.Select(cols+`, ts_rank('{0.1,0.2,0.4,1.0}', p.search_vector, websearch_to_tsquery('english', ?))::float8 AS score`, search).
			Where("p.search_vector @@ websearch_to_tsquery('english', ?)", search), false, nil
	case pg:
		return tx.Select(cols+", word_similarity(?, p.title)::float8 AS score", search).Where("? <% p.title", search), true, nil
	}
	const in = "ps.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)"
	tx = tx.Joins("JOIN product_search ps ON ps.product_id = p.id")
	if !*fuzzy {
		return tx.Select(cols+", CASE WHEN "+in+" THEN 2.0 ELSE 1.0 END AS score", "{title} : ("+exactQ+")").
			Where(in, exactQ), false, nil
	}
	var vocab []string
	if err := db.Raw("SELECT term FROM products_vocab").Scan(&vocab).Error; err != nil {
		return nil, false, err
	}
	return tx.Select(cols+", 0.5 AS score").Where(in, ftsQuery(words, vocab)), true, nil
}

// ftsQuery is an FTS5 query that needs every word; with a vocabulary, a word
// of four letters or more may also be one of the indexed words most like it.
func ftsQuery(words, vocab []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		alts := []string{quote(w)}
		if vocab != nil && len([]rune(w)) >= 4 {
			for _, v := range nearest(w, vocab, 5) {
				alts = append(alts, quote(v))
			}
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
		if sim := similarity(tw, trigrams(v)); sim >= 0.45 {
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
