package catalog

import (
	"sort"
	"strings"

	"gorm.io/gorm"
)

// sqliteSearch: FTS5 (porter stemmer) through product_search, and the
// words most like a misspelt one from the FTS5 vocabulary, compared in Go
// as pg_trgm would.
type sqliteSearch struct{}

func (sqliteSearch) matcher(words [][]string) matcher {
	const in = "ps.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)"
	q := ftsQuery(words)
	return matcher{
		join:  "JOIN product_search ps ON ps.product_id = p.id",
		all:   cond{in, []any{q}},
		title: cond{in, []any{"{title} : (" + q + ")"}},
	}
}

// similar reads the vocabulary once for all the words of a search.
func (sqliteSearch) similar(db *gorm.DB) (func(string) ([]string, error), error) {
	var vocab []string
	if err := db.Raw("SELECT term FROM products_vocab").Scan(&vocab).Error; err != nil {
		return nil, err
	}
	return func(w string) ([]string, error) { return nearest(w, vocab, maxNear), nil }, nil
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
