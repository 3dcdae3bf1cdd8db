package list

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// listCountries are the spellings of the lists that differ from the English region names of
// the CLDR (golang.org/x/text/language/display): OFAC writes "Korea, North" and "Burma", the
// UN "Iran (Islamic Republic of)" and "Russian Federation". Keys are written as written by
// the lists; they are normalised when the table is built.
var listCountries = map[string]string{
	// OFAC
	"Korea, North":                      "kp",
	"Korea, South":                      "kr",
	"Burma":                             "mm",
	"Congo, Democratic Republic of the": "cd",
	"Congo, Republic of the":            "cg",
	"Cote d Ivoire":                     "ci",
	"West Bank":                         "ps",
	"Gaza":                              "ps",
	"Region: Gaza":                      "ps",
	"Palestinian":                       "ps",
	"Palestinian Authority":             "ps",
	"Crimea":                            "ua",
	"North Macedonia, The Republic of":  "mk",
	"North Macedonia":                   "mk",
	"Cabo Verde":                        "cv",
	"Czech Republic":                    "cz",
	"Eswatini":                          "sz",
	"Macau":                             "mo",
	"Hong Kong":                         "hk",
	"Bosnia-Herzegovina":                "ba",
	"Timor-Leste":                       "tl",
	"Micronesia, Federated States of":   "fm",
	"Saint Kitts and Nevis":             "kn",
	"Saint Lucia":                       "lc",
	"Saint Vincent and the Grenadines":  "vc",
	"Sao Tome and Principe":             "st",
	"Curacao":                           "cw",
	"Vatican City":                      "va",
	"Holy See":                          "va",
	"Netherlands Antilles":              "cw",
	"Serbia and Montenegro":             "rs",
	"Yugoslavia":                        "rs",
	"United States of America":          "us",
	"USA":                               "us",
	"UK":                                "gb",
	"Great Britain":                     "gb",
	"England":                           "gb",
	"Turkiye":                           "tr",
	"Ivory Coast":                       "ci",
	"East Timor":                        "tl",
	// UN
	"Democratic People's Republic of Korea":                "kp",
	"Republic of Korea":                                    "kr",
	"Democratic Republic of the Congo":                     "cd",
	"Iran (Islamic Republic of)":                           "ir",
	"Russian Federation":                                   "ru",
	"Syrian Arab Republic":                                 "sy",
	"United Republic of Tanzania":                          "tz",
	"State of Palestine":                                   "ps",
	"Occupied Palestinian Territory":                       "ps",
	"United Kingdom of Great Britain and Northern Ireland": "gb",
	"China, Hong Kong Special Administrative Region":       "hk",
	"China, Macao Special Administrative Region":           "mo",
	"Viet Nam":                                  "vn",
	"Lao People's Democratic Republic":          "la",
	"Republic of Moldova":                       "md",
	"Bolivia (Plurinational State of)":          "bo",
	"Venezuela (Bolivarian Republic of)":        "ve",
	"Micronesia (Federated States of)":          "fm",
	"Brunei Darussalam":                         "bn",
	"Myanmar":                                   "mm",
	"The former Yugoslav Republic of Macedonia": "mk",
	"Libyan Arab Jamahiriya":                    "ly",
}

// regionSkip are CLDR regions that are not countries a person or company can belong to.
var regionSkip = map[string]bool{"EZ": true, "UN": true, "QO": true, "EU": true, "ZZ": true}

var countryTable = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 600)
	names := display.English.Regions()
	var code [2]byte
	for a := byte('A'); a <= 'Z'; a++ {
		for b := byte('A'); b <= 'Z'; b++ {
			code[0], code[1] = a, b
			r, err := language.ParseRegion(string(code[:]))
			if err != nil || !r.IsCountry() || regionSkip[r.String()] || r.Canonicalize() != r {
				continue
			}
			name := names.Name(r)
			if name == "" {
				continue
			}
			iso := strings.ToLower(r.String())
			m[countryKey(name)] = iso
			// "Myanmar (Burma)" is also "Myanmar"; "Congo - Kinshasa" also "Congo Kinshasa".
			if i := strings.Index(name, " ("); i > 0 {
				if _, ok := m[countryKey(name[:i])]; !ok {
					m[countryKey(name[:i])] = iso
				}
			}
		}
	}
	// "Congo" alone is the Republic of the Congo (UN usage); CLDR has only the two forms with
	// a capital.
	m["congo"] = "cg"
	for name, iso := range listCountries {
		m[countryKey(name)] = iso
	}
	return m
})

var foldAccents = sync.OnceValue(func() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
})

// countryKey normalises a country name for lookup: lower case, accents removed, "&" read as
// "and", "St." as "saint", punctuation as space, a leading "the" dropped.
func countryKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		if t, _, err := transform.String(foldAccents(), s); err == nil {
			s = t
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	space := true // no leading space
	for _, r := range s {
		switch {
		case r == '&':
			if !space {
				b.WriteByte(' ')
			}
			b.WriteString("and ")
			space = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default: // punctuation, apostrophes, spaces
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	k := strings.TrimSuffix(b.String(), " ")
	k = strings.TrimPrefix(k, "the ")
	if strings.HasPrefix(k, "st ") {
		k = "saint " + k[3:]
	}
	return k
}

// Country returns the ISO 3166 alpha-2 code, in lower case, of a country name as the lists
// write it: an English name ("Russia", "Russian Federation", "Korea, North", "Côte
// d'Ivoire"). ok is false when the name is not known. Codes are not names: the UN writes
// "na" for "not available", not for Namibia; use [CountryCode] for codes.
func Country(name string) (code string, ok bool) {
	t := countryTable()
	if code, ok = t[countryKey(name)]; ok {
		return code, true
	}
	// OFAC writes "Region: West Bank" and inverts names: "Virgin Islands, British", "Man,
	// Isle of", "Bahamas, The".
	name = strings.TrimSpace(name)
	if rest, cut := strings.CutPrefix(name, "Region: "); cut {
		return Country(rest)
	}
	if a, b, cut := strings.Cut(name, ", "); cut && !strings.Contains(b, ",") {
		code, ok = t[countryKey(b+" "+a)]
	}
	return code, ok
}

// CountryCode returns the canonical lower-case form of an ISO 3166 alpha-2 country code
// ("RU" gives "ru", "UK" gives "gb"); ok is false for anything else.
func CountryCode(code string) (string, bool) {
	if len(code) != 2 || !isASCIILetter(code[0]) || !isASCIILetter(code[1]) {
		return "", false
	}
	r, err := language.ParseRegion(code)
	if err != nil || !r.IsCountry() {
		return "", false
	}
	r = r.Canonicalize()
	if regionSkip[r.String()] {
		return "", false
	}
	return strings.ToLower(r.String()), true
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
