package pricing

import (
	"errors"
	"math/bits"
)

// MaxQuantity is the most units one line may book: with MaxAmount it keeps
// a line's total inside int64.
const MaxQuantity = 1_000_000

// Booking is what one order line books: the unit split of the inputs frozen
// on it, each figure times the quantity, with one input changed: the card
// fee estimate is replaced by the fee actually paid, and the difference goes
// to (or comes from) the group margin. Every field is zero or more, and
//
//	Σ MakerLabor + Materials + Packaging + CollectiveFund + PlatformFee +
//	Processing + GroupMargin == Amount + Absorbed.
type Booking struct {
	Amount         int64   // price × quantity: what the buyer paid for the line
	Quantity       int64   // units
	MakerLabor     []int64 // each maker's labour on all units, in the order of Inputs.MakerMinutes
	Materials      int64
	Packaging      int64
	CollectiveFund int64
	PlatformFee    int64
	Processing     int64 // the fee actually paid for the line
	GroupMargin    int64
	// Absorbed is the part of the actual fee that the group margin could not
	// bear, which the platform bears so that no maker's labour pays a fee.
	Absorbed int64
	// Waived is platform fee forgone on a line whose frozen price does not
	// cover its costs and fees: only orders taken before checkout refused
	// such lines hold one, and their makers are still paid in full.
	Waived int64
}

// Labor is the labour of all makers on all units.
func (b Booking) Labor() int64 {
	var sum int64
	for _, l := range b.MakerLabor {
		sum += l
	}
	return sum
}

// Book figures what a line of quantity units at the frozen inputs in books
// when fee was paid for it (0 for cash). in.MakerMinutes is required.
// A fee beyond the margin (even beyond the line, as for a small line of an
// order with a large shipping fee) is absorbed. Errors: ErrInvalidInputs
// for inputs, a quantity or a fee out of range.
func Book(in Inputs, quantity, fee int64) (Booking, error) {
	if len(in.MakerMinutes) == 0 || quantity < 1 || quantity > MaxQuantity {
		return Booking{}, ErrInvalidInputs
	}
	u, waived, err := unitSplit(in)
	if err != nil {
		return Booking{}, err
	}
	b := Booking{Amount: in.Price * quantity, Quantity: quantity, MakerLabor: make([]int64, len(u.MakerLabor)),
		Materials: u.Amount(Materials) * quantity, Packaging: u.Amount(Packaging) * quantity,
		CollectiveFund: u.Amount(CollectiveFund) * quantity, PlatformFee: u.Amount(PlatformFee) * quantity,
		Processing: fee, Waived: waived * quantity}
	if fee < 0 {
		return Booking{}, ErrInvalidInputs
	}
	for i, l := range u.MakerLabor {
		b.MakerLabor[i] = l * quantity
	}
	b.GroupMargin = (u.Amount(GroupMargin)+u.Amount(PaymentProcessing))*quantity - fee
	if b.GroupMargin < 0 {
		b.Absorbed, b.GroupMargin = -b.GroupMargin, 0
	}
	return b, nil
}

// unitSplit is the split of one unit. A price that does not cover its costs
// and fees (a *ShortfallError from Compute) is split with the platform fee
// cut by as much as the shortfall needs, down to none, and no fund or group
// margin; what the cut cannot cover stays as a negative group margin, which
// Book turns into the platform's absorbed fee. waived is the cut.
func unitSplit(in Inputs) (s Split, waived int64, err error) {
	s, err = Compute(in)
	var short *ShortfallError
	if !errors.As(err, &short) {
		return s, 0, err
	}
	labor := in.LaborMinutes * in.HourlyWage / 60
	platform := in.Price * in.PlatformFeeBPS / 10000
	processing := in.Price * in.ProcessingBPS / 10000
	deficit := fixedCosts(in, in.Price) - in.Price
	waived = min(deficit, platform)
	platform -= waived
	s = Split{MakerLabor: makerLabor(in, labor), Lines: []Line{
		{Kind: ArtisanLabor, Amount: labor},
		{Kind: Materials, Amount: in.Materials},
		{Kind: Packaging, Amount: in.Packaging},
		{Kind: CollectiveFund},
		{Kind: PlatformFee, Amount: platform},
		{Kind: PaymentProcessing, Amount: processing},
		{Kind: GroupMargin, Amount: in.Price - labor - in.Materials - in.Packaging - platform - processing},
	}}
	return s, waived, nil
}

// ApportionFee shares an order's processing fee over its lines by their
// amounts, each share rounded down and the remainder to the last line
// (section 7), so the shares sum to the fee. amounts must be positive; the
// fee may pass their total (shipping is charged too, and pays no share).
func ApportionFee(fee int64, amounts []int64) ([]int64, error) {
	if fee < 0 || len(amounts) == 0 {
		return nil, ErrInvalidInputs
	}
	var total int64
	for _, a := range amounts {
		if a <= 0 {
			return nil, ErrInvalidInputs
		}
		total += a
	}
	out := make([]int64, len(amounts))
	var given int64
	for i, a := range amounts[:len(amounts)-1] {
		// fee × a can pass 64 bits; the quotient cannot pass the fee.
		hi, lo := bits.Mul64(uint64(fee), uint64(a))
		q, _ := bits.Div64(hi, lo, uint64(total))
		out[i] = int64(q)
		given += out[i]
	}
	out[len(out)-1] = fee - given
	return out, nil
}
