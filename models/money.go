package models

import (
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

// Money is an amount in minor units (paisa for PKR) of one ISO 4217 currency.
// It is never a float: every calculation stays in integers.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether code has the shape of an ISO 4217 code.
func ValidCurrency(code string) bool { return currencyCode.MatchString(code) }

// NewMoney returns amount minor units of currency.
func NewMoney(amount int64, currency string) Money { return Money{Amount: amount, Currency: currency} }

// String is the amount as people read it, in whole units with two decimals
// and thousands separated: "Rs 2,450.00" for rupees, the ISO code before
// any other currency ("USD 12.50"). Every currency here has two decimals.
func (m Money) String() string {
	prefix := m.Currency + " "
	if m.Currency == "PKR" {
		prefix = "Rs "
	}
	amount := m.Amount
	sign := ""
	if amount < 0 {
		sign = "-"
	}
	whole := strconv.FormatUint(absUint(amount)/100, 10)
	var b strings.Builder
	b.WriteString(sign + prefix)
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	fmt.Fprintf(&b, ".%02d", absUint(amount)%100)
	return b.String()
}

// absUint is |n|, which for the smallest int64 only an unsigned type holds.
func absUint(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1
	}
	return uint64(n)
}

// ErrCurrencyMismatch is returned when two amounts of different currencies meet.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// Add returns m + o, or ErrCurrencyMismatch.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, ErrCurrencyMismatch
	}
	return Money{Amount: m.Amount + o.Amount, Currency: m.Currency}, nil
}

// Allocate splits m into len(weights) parts proportional to the weights by the
// largest-remainder method: each part gets floor(amount×weight÷sum), and the
// minor units left over go one each to the parts with the largest remainders,
// ties to the earlier part. The parts always sum exactly to m, and the same
// inputs always give the same parts. m must not be negative, weights must be
// non-negative and not all zero.
func (m Money) Allocate(weights []int64) ([]Money, error) {
	amounts, err := AllocateInt(m.Amount, weights)
	if err != nil {
		return nil, err
	}
	parts := make([]Money, len(amounts))
	for i, a := range amounts {
		parts[i] = Money{Amount: a, Currency: m.Currency}
	}
	return parts, nil
}

// AllocateInt is Allocate on bare minor units.
func AllocateInt(total int64, weights []int64) ([]int64, error) {
	if total < 0 {
		return nil, errors.New("allocate: negative total")
	}
	if len(weights) == 0 {
		return nil, errors.New("allocate: no weights")
	}
	var sum uint64
	for _, w := range weights {
		if w < 0 {
			return nil, errors.New("allocate: negative weight")
		}
		var carry uint64
		sum, carry = bits.Add64(sum, uint64(w), 0)
		if carry != 0 {
			return nil, errors.New("allocate: weights overflow")
		}
	}
	if sum == 0 {
		return nil, errors.New("allocate: weights sum to zero")
	}
	parts := make([]int64, len(weights))
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		// total×w can exceed 64 bits; the quotient cannot exceed total.
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum)
		parts[i], rems[i] = int64(q), r
		given += int64(q)
	}
	for left := total - given; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if weights[i] > 0 && (best < 0 || r > rems[best]) {
				best = i
			}
		}
		parts[best]++
		rems[best] = 0
	}
	return parts, nil
}
