package receipts

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Answer is what an artisan's reply to her receipt says.
type Answer int

// Answers.
const (
	NoAnswer Answer = iota // the text is not an answer
	Yes                    // HAAN: the money reached her
	No                     // NAHI: it did not
)

// answerWords are the words of an answer, as foldWord writes them. "جی"
// on its own is yes, and before another word only politeness ("جی ہاں",
// "جی نہیں").
var answerWords = func() map[string]Answer {
	m := map[string]Answer{}
	for _, w := range []string{"HAAN", "HAN", "HAA", "HA", "YES", "Y", "ہاں", "ہان"} {
		m[foldWord(w)] = Yes
	}
	for _, w := range []string{"NAHI", "NAHIN", "NAHEEN", "NAI", "NA", "NO", "N", "نہیں", "نہ", "نا"} {
		m[foldWord(w)] = No
	}
	return m
}()

var politeWords = map[string]bool{foldWord("جی"): true, "JI": true, "JEE": true}

// ParseReply reads an SMS as an answer to a receipt: an answer word (HAAN,
// HAN, YES, Y, جی, ہاں to confirm; NAHI, NAI, NO, N, نہیں to dispute) and a
// code, in either order, in any case, with any spaces or punctuation
// between, Urdu or Arabic-Indic digits, and the Arabic letters phones put
// for Urdu ones. code is the code as ParseCode reads it ("" when the rest is
// not one code); answer is NoAnswer when no answer word leads or ends the
// text, or the words contradict each other.
func ParseReply(text string) (answer Answer, code string) {
	words := strings.FieldsFunc(norm.NFKC.String(text), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r) || isBidiMark(r)
	})
	for i, w := range words {
		words[i] = foldWord(w)
	}
	// Answer words lead the text, or end it after the code.
	n := leading(words)
	rest := words[n:]
	if n == 0 {
		m := leading(reversed(words))
		answer = answerOf(words[len(words)-m:])
		rest = words[:len(words)-m]
	} else {
		answer = answerOf(words[:n])
	}
	code, _ = ParseCode(strings.Join(rest, ""))
	return answer, code
}

// leading counts the answer and polite words at the start of words.
func leading(words []string) int {
	n := 0
	for n < len(words) {
		if _, ok := answerWords[words[n]]; !ok && !politeWords[words[n]] {
			break
		}
		n++
	}
	return n
}

func reversed(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[len(words)-1-i] = w
	}
	return out
}

// answerOf is what a run of answer and polite words says: the one answer
// among them, yes for politeness alone ("جی"), NoAnswer for none or both.
func answerOf(words []string) Answer {
	if len(words) == 0 {
		return NoAnswer
	}
	got := NoAnswer
	for _, w := range words {
		a, ok := answerWords[w]
		switch {
		case !ok:
		case got == NoAnswer:
			got = a
		case got != a:
			return NoAnswer
		}
	}
	if got == NoAnswer {
		return Yes // "جی" alone: yes
	}
	return got
}

// foldWord writes a word the one way the answer words are compared in:
// Latin letters in capitals, the Arabic letters that Arabic and Persian
// keyboards type for Urdu ones as the Urdu letters, noon ghunna as noon
// (ہان for ہاں), and vowel marks, tatweel and invisible joiners left out.
func foldWord(w string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r == 'ه' || r == 'ھ' || r == 'ە' || r == 'ة':
			return 'ہ'
		case r == 'ي' || r == 'ى' || r == 'ې':
			return 'ی'
		case r == 'ك':
			return 'ک'
		case r == 'ں':
			return 'ن'
		case r == 'ـ' || (r >= '\u064b' && r <= '\u065f') || r == '\u0670' || r == '\u200c' || r == '\u200d' || isBidiMark(r):
			return -1
		}
		return r
	}, w)
}
