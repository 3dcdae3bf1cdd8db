package ledger

import (
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
)

const timeLayout = "2006-01-02T15:04:05Z"

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func hexs(b []byte) string { return hex.EncodeToString(b) }

// mulDiv returns floor(a*b/c) with a 128-bit intermediate. c must be non-zero and the result
// must fit in 64 bits (true for amounts ≤ MaxAmount when b ≤ c).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		panic("ledger: mulDiv overflow")
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// mulDivRem is mulDiv that also returns the remainder.
func mulDivRem(a, b, c uint64) (uint64, uint64) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		panic("ledger: mulDiv overflow")
	}
	return bits.Div64(hi, lo, c)
}

// unitPrice formats consideration/quantity in fen per unit with four decimals, truncated.
func unitPrice(consideration, quantity uint64) string {
	if quantity == 0 {
		return ""
	}
	whole := consideration / quantity
	frac := mulDiv(consideration%quantity, 10000, quantity)
	return fmt.Sprintf("%d.%04d", whole, frac)
}
