package kyc

import (
	"strings"
	"time"
	"unicode"

	"github.com/regledger/regledger/ledger"
)

// Limits of the free-text fields.
const (
	MaxNameRunes   = 200
	MaxReasonRunes = 500
	maxPassportLen = 20
)

// chinaTime is the zone a resident's date of birth is written in. A fixed offset, so that the
// check does not depend on the host's time zone database.
var chinaTime = time.FixedZone("UTC+8", 8*3600)

// NormaliseID folds an identity-document number (or a nationality code) to its canonical form:
// full-width ASCII forms (U+FF01–U+FF5E) become their ASCII counterparts, every white-space
// character (the ideographic space included) is removed and a–z are upper-cased. Other
// characters are kept as they are, so that validation rejects them rather than have them
// silently mapped onto letters. NormaliseID is idempotent.
func NormaliseID(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// NormaliseName trims a name, collapses every run of white space inside it to one space and
// checks it: valid UTF-8, no control or invisible formatting characters, 1 to MaxNameRunes
// characters. Errors say what is wrong, never what the name is.
func NormaliseName(s string) (string, error) { return normaliseText("name", s, MaxNameRunes) }

// residentWeights are the GB 11643-1999 (ISO 7064 MOD 11-2) weights of positions 1–17.
var residentWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentCheck maps S mod 11 to the check character.
const residentCheck = "10X98765432"

// residentProvinces are the province-level prefixes of GB/T 2260 that resident numbers carry,
// with 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and 83 (residence permits of Taiwan residents).
var residentProvinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// ValidateResident checks a normalised PRC resident identity number (GB 11643-1999) as of now:
// 18 characters, 17 digits and a check character (digit or X); a six-digit region code under a
// known province; a real date of birth, not after today in China and not before 1850; and the
// MOD 11-2 check character. A checksum that holds does not prove the person exists.
func ValidateResident(s string, now time.Time) error {
	if len(s) != 18 {
		return invalid("id_number", "a resident identity number has 18 characters")
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return invalid("id_number", "the first 17 characters of a resident identity number are digits")
		}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return invalid("id_number", "the check character of a resident identity number is a digit or X")
	}
	y, m, d := atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])
	dob := time.Date(y, time.Month(m), d, 0, 0, 0, 0, chinaTime)
	if dob.Year() != y || int(dob.Month()) != m || dob.Day() != d {
		return invalid("id_number", "the date of birth is not a valid date")
	}
	if y < 1850 {
		return invalid("id_number", "the date of birth is before 1850")
	}
	ty, tm, td := now.In(chinaTime).Date()
	if dob.After(time.Date(ty, tm, td, 0, 0, 0, 0, chinaTime)) {
		return invalid("id_number", "the date of birth is in the future")
	}
	if !residentProvinces[s[:2]] {
		return invalid("id_number", "the region code is not under a known province")
	}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * residentWeights[i]
	}
	if s[17] != residentCheck[sum%11] {
		return invalid("id_number", "the check character does not match")
	}
	return nil
}

// atoi converts a string of ASCII digits (already checked) to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allUpperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ValidateID checks a normalised document number of type t (see NormaliseID) and the
// normalised nationality that goes with it, as of now:
//
//   - resident: see ValidateResident; nationality empty or CN;
//   - passport: 1 to 20 of A–Z and 0–9; nationality required;
//   - hkmo_permit: H or M followed by 8 or 10 digits;
//   - tw_permit: 8 to 10 of A–Z and 0–9;
//   - foreign_permanent: three letters and 12 digits (the 2004 card), or 9 followed by 16
//     digits and a digit or X (the 2023 card); nationality, if given, not CN;
//   - uscc: GB 32100-2015 (ledger.ValidateUSCC); nationality empty or CN.
//
// A nationality, where given, is two letters A–Z (ISO 3166-1 alpha-2; the code list itself is
// not checked).
func ValidateID(t IDType, number, nationality string, now time.Time) error {
	if nationality != "" && (len(nationality) != 2 || !allUpper(nationality)) {
		return invalid("nationality", "is not a two-letter country code")
	}
	if number == "" {
		return invalid("id_number", "is required")
	}
	switch t {
	case Resident:
		if nationality != "" && nationality != "CN" {
			return invalid("nationality", "a resident identity card holder is a PRC national")
		}
		return ValidateResident(number, now)
	case Passport:
		if len(number) > maxPassportLen || !allUpperAlnum(number) {
			return invalid("id_number", "a passport number is 1 to 20 letters and digits")
		}
		if nationality == "" {
			return invalid("nationality", "is required for a passport")
		}
	case HKMacauPermit:
		if (len(number) != 9 && len(number) != 11) || (number[0] != 'H' && number[0] != 'M') || !allDigits(number[1:]) {
			return invalid("id_number", "a Hong Kong or Macao permit number is H or M followed by 8 or 10 digits")
		}
	case TaiwanPermit:
		if len(number) < 8 || len(number) > 10 || !allUpperAlnum(number) {
			return invalid("id_number", "a Taiwan permit number is 8 to 10 letters and digits")
		}
	case ForeignPermanentID:
		ok := false
		switch len(number) {
		case 15:
			ok = allUpper(number[:3]) && allDigits(number[3:])
		case 18:
			ok = number[0] == '9' && allDigits(number[:17]) && (allDigits(number[17:]) || number[17] == 'X')
		}
		if !ok {
			return invalid("id_number", "a foreign permanent resident id is 3 letters and 12 digits, or 18 characters starting with 9")
		}
		if nationality == "CN" {
			return invalid("nationality", "a foreign permanent resident is not a PRC national")
		}
	case USCC:
		if nationality != "" && nationality != "CN" {
			return invalid("nationality", "an organisation with a unified social credit code is registered in the PRC")
		}
		// ledger's error names the check character; only the fact of failure is passed on.
		if ledger.ValidateUSCC(number) != nil {
			return invalid("id_number", "is not a valid unified social credit code")
		}
	default:
		return invalid("id_type", "unknown identity document type")
	}
	return nil
}

// document is a validated identity document in canonical form.
type document struct {
	Type        IDType
	Number      string
	Nationality string
	PRCDomicile bool
}

// scope is the part of the commitment input that scopes the number: the issuing country for
// passports, whose numbers are unique only per country; empty for documents issued by PRC
// authorities, whose numbers are unique nationally.
func (d document) scope() string {
	if d.Type == Passport {
		return d.Nationality
	}
	return ""
}

// newDocument normalises and validates a document of a subject of kind k.
func newDocument(k Kind, t IDType, number, nationality string, now time.Time) (document, error) {
	if !k.Valid() {
		return document{}, invalid("kind", "unknown kind")
	}
	if !t.Valid() {
		return document{}, invalid("id_type", "unknown identity document type")
	}
	if !t.ForKind(k) {
		return document{}, invalid("id_type", "this document type does not identify a subject of this kind")
	}
	d := document{Type: t, Number: NormaliseID(number), Nationality: NormaliseID(nationality)}
	if t == USCC {
		d.Number = ledger.NormaliseUSCC(d.Number) // a no-op after NormaliseID; the ledger's form is the reference
	}
	if err := ValidateID(t, d.Number, d.Nationality, now); err != nil {
		return document{}, err
	}
	if t == Resident || t == USCC {
		d.Nationality, d.PRCDomicile = "CN", true
	}
	return d, nil
}
