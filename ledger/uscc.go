package ledger

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUSCC is returned for a string that is not a valid Unified Social Credit Code.
var ErrUSCC = errors.New("ledger: invalid unified social credit code")

// usccAlphabet is the 31-symbol table of GB 32100-2015: digits and the capital letters without
// I, O, Z, S and V. A character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidateUSCC checks a Unified Social Credit Code (GB 32100-2015): 18 symbols of the 31-symbol
// table, positions 3–8 digits (the administrative division), and the MOD 31 check character in
// position 18. The code must already be normalised (trimmed, upper case); NormaliseUSCC does that.
func ValidateUSCC(s string) error {
	if len(s) != uscclen {
		return fmt.Errorf("%w: length %d, want 18", ErrUSCC, len(s))
	}
	sum := 0
	for i := 0; i < uscclen; i++ {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return fmt.Errorf("%w: character %d is outside the 31-symbol set", ErrUSCC, i+1)
		}
		if i >= 2 && i <= 7 && v > 9 {
			return fmt.Errorf("%w: positions 3-8 must be digits", ErrUSCC)
		}
		if i < 17 {
			sum += v * usccWeights[i]
		} else if want := (31 - sum%31) % 31; v != want {
			return fmt.Errorf("%w: check character %c, want %c", ErrUSCC, s[i], usccAlphabet[want])
		}
	}
	return nil
}

// NormaliseUSCC trims spaces and upper-cases a code.
func NormaliseUSCC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// USCCCheckChar returns the check character for the first 17 symbols of a code, for tools that
// build codes; ok is false when body has a symbol outside the table.
func USCCCheckChar(body string) (byte, bool) {
	if len(body) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccAlphabet, body[i])
		if v < 0 {
			return 0, false
		}
		sum += v * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}
