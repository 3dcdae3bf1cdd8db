package list

import (
	"sort"
	"strings"
)

// OFAC's remarks are "; "-separated statements: "DOB 07 Oct 1952; alt. DOB 1958; POB ...;
// nationality Russia; citizen Russia; Gender Male; Passport X123 (Iran); a.k.a. 'NAME'". The
// parts that say something the model holds are read; the rest stays in Remarks only. Free
// text never makes the load fail.

// ofacIDLabels maps OFAC's identifier labels to identifier types. A remark is read as an
// identifier when it starts with one of these labels (the longest that fits) followed by a
// space.
var ofacIDLabels = map[string]string{
	"Passport":                           IDPassport,
	"Diplomatic Passport":                IDPassport,
	"Passport Booklet":                   IDPassport,
	"British National Overseas Passport": IDPassport,
	"Stateless Person Passport":          IDPassport,
	"Travel Document Number":             IDPassport,
	"Diplomatic Passport Laissez-Passer": IDPassport,

	"National ID No.":                     IDNational,
	"Cedula No.":                          IDNational,
	"C.U.R.P.":                            IDNational,
	"C.U.R.P. #":                          IDNational,
	"SSN":                                 IDNational,
	"D.N.I.":                              IDNational,
	"Identification Number":               IDNational,
	"Personal ID Card":                    IDNational,
	"National Foreign ID Number":          IDNational,
	"Kenyan ID No.":                       IDNational,
	"Tazkira National ID Card":            IDNational,
	"Turkish Identification Number":       IDNational,
	"Numero de Identidad":                 IDNational,
	"C.U.I.":                              IDNational,
	"C.U.I.P.":                            IDNational,
	"Bosnian Personal ID No.":             IDNational,
	"Moroccan Personal ID No.":            IDNational,
	"Citizen's Card Number":               IDNational,
	"Residency Number":                    IDNational,
	"Electoral Registry No.":              IDNational,
	"Credencial electoral":                IDNational,
	"I.F.E.":                              IDNational,
	"Birth Certificate Number":            IDNational,
	"Refugee ID Card":                     IDNational,
	"Stateless Person ID Card":            IDNational,
	"CNP (Personal Numerical Code)":       IDNational,
	"UAE Identification":                  IDNational,
	"N.I.E.":                              IDNational,
	"Public Security and Immigration No.": IDNational,
	"Romanian Permanent Resident CAN":     IDNational,
	"Afghan Money Service Provider License Number": IDRegistration,

	"Tax ID No.":                           IDTax,
	"R.F.C.":                               IDTax,
	"R.F.C. #":                             IDTax,
	"RFC":                                  IDTax,
	"NIT #":                                IDTax,
	"RUC #":                                IDTax,
	"RIF #":                                IDTax,
	"V.A.T. Number":                        IDTax,
	"C.U.I.T.":                             IDTax,
	"Italian Fiscal Code":                  IDTax,
	"US FEIN":                              IDTax,
	"Fiscal Code":                          IDTax,
	"Romanian Tax Registration":            IDTax,
	"Paraguayan tax identification number": IDTax,
	"Numero Unico de Identificacao Tributaria (NUIT)": IDTax,
	"N.I.F.": IDTax,
	"C.I.F.": IDTax,
	"RTN":    IDTax,

	"Registration Number":                           IDRegistration,
	"Registration ID":                               IDRegistration,
	"Business Registration Number":                  IDRegistration,
	"Business Registration Document #":              IDRegistration,
	"Commercial Registry Number":                    IDRegistration,
	"Company Number":                                IDRegistration,
	"UK Company Number":                             IDRegistration,
	"Folio Mercantil No.":                           IDRegistration,
	"Matricula Mercantil No":                        IDRegistration,
	"C.R. No.":                                      IDRegistration,
	"Trade License No.":                             IDRegistration,
	"Government Gazette Number":                     IDRegistration,
	"Unified Social Credit Code (USCC)":             IDRegistration,
	"United Social Credit Code Certificate (USCCC)": IDRegistration,
	"Economic Register Number (CBLS)":               IDRegistration,
	"Central Registration System Number":            IDRegistration,
	"Istanbul Chamber of Comm. No.":                 IDRegistration,
	"Chamber of Commerce Number":                    IDRegistration,
	"Business Number":                               IDRegistration,
	"Enterprise Number":                             IDRegistration,
	"Public Registration Number":                    IDRegistration,
	"Certificate of Incorporation Number":           IDRegistration,
	"Dubai Chamber of Commerce Membership No.":      IDRegistration,
	"Registered Charity No.":                        IDRegistration,
	"Branch Unit Number":                            IDRegistration,
	"LE Number":                                     IDRegistration,
	"Organization Code":                             IDRegistration,
	"Romanian C.R.":                                 IDRegistration,
	"D-U-N-S Number":                                IDRegistration,
	"License":                                       IDRegistration,
	"MSB Registration Number":                       IDRegistration,
	"Tourism License No.":                           IDRegistration,

	"Vessel Registration Identification":      IDIMO,
	"International Maritime Organization No.": IDIMO,
	"MMSI":                   IDMMSI,
	"Other Vessel Call Sign": IDCallSign,
	"SWIFT/BIC":              IDSWIFT,
	"Legal Entity Number":    IDLEI,

	"Aircraft Tail Number":                                         IDAircraft,
	"Previous Aircraft Tail Number":                                IDAircraft,
	"Aircraft Manufacturer's Serial Number (MSN)":                  IDAircraft,
	"Aircraft Construction Number (also called L/N or S/N or F/N)": IDAircraft,
	"Aircraft Serial Identification":                               IDAircraft,
	"Aircraft Mode S Transponder Code":                             IDAircraft,

	"Driver's License No.":                  IDOther,
	"Cartilla de Servicio Militar Nacional": IDOther,
	"Military Registration Number":          IDOther,
	"Pilot License Number":                  IDOther,
	"VisaNumberID":                          IDOther,
	"SRE Permit No.":                        IDOther,
	"Permit Number":                         IDOther,
	"ISIN":                                  IDOther,
	"BIK (RU)":                              IDOther,
}

// ofacLabelsByLength holds the labels longest first, so that "Passport Booklet" wins over
// "Passport".
var ofacLabelsByLength = func() []string {
	l := make([]string, 0, len(ofacIDLabels))
	for k := range ofacIDLabels {
		l = append(l, k)
	}
	sort.Slice(l, func(i, j int) bool {
		if len(l[i]) != len(l[j]) {
			return len(l[i]) > len(l[j])
		}
		return l[i] < l[j]
	})
	return l
}()

const cryptoLabel = "Digital Currency Address - "

// parseOFACRemarks fills birth dates, nationalities, gender, identifiers and weak aliases of
// e from its remarks.
func parseOFACRemarks(e *Entity) {
	parts := strings.Split(e.Remarks, ";")
	for i := 0; i < len(parts); i++ {
		part := strings.TrimSpace(parts[i])
		// A quoted alias may hold a ';': join up to the closing quote, a few parts ahead
		// at most; an alias never closed is left alone and the parts after it still count.
		if quotedAliasKind(part) != "" && !closesQuote(part) {
			joined := part
			for j := i + 1; j < len(parts) && j <= i+maxAliasParts; j++ {
				joined += ";" + parts[j]
				if closesQuote(joined) {
					part, i = strings.TrimSpace(joined), j
					break
				}
			}
		}
		ofacRemark(e, part)
	}
}

// maxAliasParts is how many ';' a quoted alias of the remarks may hold.
const maxAliasParts = 3

func quotedAliasKind(part string) string {
	for _, p := range [...]string{"a.k.a. '", "f.k.a. '", "n.k.a. '"} {
		if strings.HasPrefix(part, p) {
			return p
		}
	}
	return ""
}

func closesQuote(part string) bool {
	s := strings.TrimSuffix(strings.TrimSpace(part), ".")
	return len(s) > len("a.k.a. '") && strings.HasSuffix(s, "'")
}

func ofacRemark(e *Entity, part string) {
	if q := quotedAliasKind(part); q != "" {
		if closesQuote(part) {
			s := strings.TrimSuffix(strings.TrimSpace(part), ".")
			name := strings.TrimSpace(s[len(q) : len(s)-1])
			if name != "" {
				e.Names = appendName(e.Names, name, Weak)
			}
		}
		return
	}
	part = strings.TrimSuffix(part, ".")
	part = strings.TrimPrefix(part, "alt. ")
	switch {
	case strings.HasPrefix(part, "DOB "):
		for _, d := range parseOFACDOB(part[len("DOB "):]) {
			e.BirthDates = appendDate(e.BirthDates, d)
		}
	case strings.HasPrefix(part, "nationality "), strings.HasPrefix(part, "citizen "):
		_, name, _ := strings.Cut(part, " ")
		if c, ok := Country(name); ok {
			e.Nationalities = appendUnique(e.Nationalities, c)
		}
	case part == "Gender Male":
		e.Gender = "male"
	case part == "Gender Female":
		e.Gender = "female"
	case strings.HasPrefix(part, cryptoLabel):
		rest := strings.TrimSpace(part[len(cryptoLabel):])
		cur, addr, ok := strings.Cut(rest, " ")
		if ok && addr != "" && !strings.Contains(addr, " ") {
			e.Identifiers = appendIdentifier(e.Identifiers, Identifier{Type: IDCrypto, Value: addr, Label: cryptoLabel + cur})
		}
	default:
		if id, ok := ofacIdentifier(part); ok {
			e.Identifiers = appendIdentifier(e.Identifiers, id)
		}
	}
}

func ofacIdentifier(part string) (Identifier, bool) {
	for _, label := range ofacLabelsByLength {
		if len(part) <= len(label)+1 || part[len(label)] != ' ' || !strings.HasPrefix(part, label) {
			continue
		}
		id := Identifier{Type: ofacIDLabels[label], Label: label}
		v := strings.TrimSpace(part[len(label)+1:])
		// "X123 (Iran) issued 01 Jan 2000 expires 01 Jan 2010"
		for _, stop := range [...]string{" issued", " expires", ", expired", " expired"} {
			if i := strings.Index(v, stop); i >= 0 {
				v = v[:i]
			}
		}
		v = strings.TrimSpace(v)
		if strings.HasSuffix(v, ")") {
			if i := strings.LastIndex(v, " ("); i >= 0 {
				if c, ok := Country(v[i+2 : len(v)-1]); ok {
					id.Country = c
					v = strings.TrimSpace(v[:i])
				}
			}
		}
		// An IMO number is written "IMO 1234567", also after other labels.
		if imo, ok := strings.CutPrefix(v, "IMO "); ok && allDigits(imo) {
			id.Type, v = IDIMO, imo
		}
		if id.Type == IDIMO {
			v = strings.Trim(v, "()")
		}
		if !plausibleID(v) {
			return Identifier{}, false
		}
		id.Value = v
		return id, true
	}
	return Identifier{}, false
}

// plausibleID keeps free text out of identifiers: a value has a digit and at most four
// words.
func plausibleID(v string) bool {
	if v == "" || len(v) > 64 || strings.Count(v, " ") > 3 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func appendIdentifier(ids []Identifier, id Identifier) []Identifier {
	for _, x := range ids {
		if x.Type == id.Type && x.Value == id.Value && x.Country == id.Country {
			return ids
		}
	}
	return append(ids, id)
}

// maxRangeYears bounds the years a date range is expanded into; wider ranges give their
// two ends.
const maxRangeYears = 20

// parseOFACDOB reads the dates of a "DOB" remark: "07 Oct 1952", "Oct 1952", "1952", "circa
// 1960", "1962 to 1964", "01 Jan 1962 to 31 Dec 1964", "circa 1955-1958". A range gives
// each year in it (or the month, when it lies within one month).
func parseOFACDOB(s string) []Date {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "circa ")
	if a, b, ok := strings.Cut(s, " to "); ok {
		da, ok1 := ofacDate(a)
		db, ok2 := ofacDate(b)
		if !ok1 || !ok2 {
			return nil
		}
		return dateRange(da, db)
	}
	if a, b, ok := strings.Cut(s, "-"); ok && len(a) == 4 && len(b) == 4 {
		da, ok1 := ofacDate(a)
		db, ok2 := ofacDate(b)
		if !ok1 || !ok2 {
			return nil
		}
		return dateRange(da, db)
	}
	if d, ok := ofacDate(s); ok {
		return []Date{d}
	}
	return nil
}

func dateRange(a, b Date) []Date {
	switch {
	case a == b:
		return []Date{a}
	case a.Year == b.Year && a.Month == b.Month && a.Month != 0:
		return []Date{{Year: a.Year, Month: a.Month}}
	case a.Year == b.Year:
		return []Date{{Year: a.Year}}
	case b.Year > a.Year && b.Year-a.Year <= maxRangeYears:
		d := make([]Date, 0, b.Year-a.Year+1)
		for y := a.Year; y <= b.Year; y++ {
			d = append(d, Date{Year: y})
		}
		return d
	}
	return []Date{{Year: a.Year}, {Year: b.Year}}
}

var months = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}

// ofacDate reads "07 Oct 1952", "Oct 1952" or "1952".
func ofacDate(s string) (Date, bool) {
	f := strings.Fields(s)
	var d Date
	switch len(f) {
	case 3:
		day, ok := smallNumber(f[0], 2)
		if !ok || day < 1 || day > 31 {
			return Date{}, false
		}
		d.Day = day
		f = f[1:]
		fallthrough
	case 2:
		m, ok := months[strings.ToLower(f[0])]
		if !ok {
			return Date{}, false
		}
		d.Month = m
		f = f[1:]
		fallthrough
	case 1:
		y, ok := smallNumber(f[0], 4)
		if !ok || len(f[0]) != 4 || y < 1000 {
			return Date{}, false
		}
		d.Year = y
		if !d.valid() {
			return Date{}, false
		}
		return d, true
	}
	return Date{}, false
}

// smallNumber parses 1 to max decimal digits.
func smallNumber(s string, max int) (int, bool) {
	if s == "" || len(s) > max {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// valid reports whether the partial date exists: a year, a month 1-12 or 0, a day that the
// month has or 0 (and no day without a month).
func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 0 || d.Month > 12 || d.Day < 0 {
		return false
	}
	if d.Month == 0 {
		return d.Day == 0
	}
	days := [...]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[d.Month-1]
	if d.Month == 2 && !(d.Year%4 == 0 && (d.Year%100 != 0 || d.Year%400 == 0)) {
		days = 28
	}
	return d.Day <= days
}

// parseISODate reads YYYY, YYYY-MM or YYYY-MM-DD.
func parseISODate(s string) (Date, bool) {
	var d Date
	var ok bool
	parts := strings.Split(s, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return Date{}, false
	}
	if d.Year, ok = smallNumber(parts[0], 4); !ok {
		return Date{}, false
	}
	if len(parts) > 1 {
		if len(parts[1]) != 2 {
			return Date{}, false
		}
		if d.Month, ok = smallNumber(parts[1], 2); !ok {
			return Date{}, false
		}
	}
	if len(parts) > 2 {
		if len(parts[2]) != 2 {
			return Date{}, false
		}
		if d.Day, ok = smallNumber(parts[2], 2); !ok {
			return Date{}, false
		}
	}
	if !d.valid() {
		return Date{}, false
	}
	return d, true
}
