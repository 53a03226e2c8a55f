package catalog

import (
	"strings"

	"gorm.io/gorm"
)

// postgresSearch: full-text search over the weighted tsvector, and the
// words most like a misspelt one from search_words' trigram index.
type postgresSearch struct{}

func (postgresSearch) matcher(words [][]string) matcher {
	const match = "p.search_vector @@ to_tsquery('english', ?)"
	return matcher{
		all:   cond{match, []any{tsQuery(words, "")}},
		title: cond{match, []any{tsQuery(words, ":A")}},
	}
}

func (postgresSearch) similar(db *gorm.DB) (func(string) ([]string, error), error) {
	return func(w string) ([]string, error) {
		var near []string
		// % narrows through the trigram index; its default threshold (0.3) is below ours.
		err := db.Raw(`SELECT word FROM search_words WHERE word % ? AND word <> ? AND similarity(word, ?) >= ?
				ORDER BY similarity(word, ?) DESC, word LIMIT ?`, w, w, w, minSimilarity, w, maxNear).Scan(&near).Error
		return near, err
	}, nil
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
