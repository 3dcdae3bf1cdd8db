package list

import (
	"reflect"
	"testing"
)

func TestParseOFACDOB(t *testing.T) {
	tests := []struct {
		in   string
		want []Date
	}{
		{"07 Oct 1952", []Date{{1952, 10, 7}}},
		{"Oct 1952", []Date{{1952, 10, 0}}},
		{"1952", []Date{{Year: 1952}}},
		{"circa 1960", []Date{{Year: 1960}}},
		{"circa 07 Jul 1960", []Date{{1960, 7, 7}}},
		{"1962 to 1964", []Date{{Year: 1962}, {Year: 1963}, {Year: 1964}}},
		{"01 Jan 1962 to 31 Dec 1964", []Date{{Year: 1962}, {Year: 1963}, {Year: 1964}}},
		{"circa 1955-1958", []Date{{Year: 1955}, {Year: 1956}, {Year: 1957}, {Year: 1958}}},
		{"01 Mar 1980 to 31 Mar 1980", []Date{{1980, 3, 0}}},
		{"Mar 1980 to Feb 1981", []Date{{Year: 1980}, {Year: 1981}}},
		{"Sep 1970 to Dec 1970", []Date{{Year: 1970}}},
		{"1900 to 1990", []Date{{Year: 1900}, {Year: 1990}}}, // too wide: the ends only
		{"1990 to 1980", []Date{{Year: 1990}, {Year: 1980}}}, // backwards: the ends only
		{"29 Feb 1961", nil},                                 // no such day
		{"31 Apr 1961", nil},
		{"29 Feb 1960", []Date{{1960, 2, 29}}},
		{"7 Oct 1952", []Date{{1952, 10, 7}}},
		{"07 Foo 1952", nil},
		{"52", nil},
		{"", nil},
		{"1962 to", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseOFACDOB(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseOFACDOB(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseOFACRemarks(t *testing.T) {
	tests := []struct {
		name    string
		remarks string
		want    Entity
	}{
		{
			name:    "person",
			remarks: "DOB 07 Oct 1952; alt. DOB 1958; POB Leningrad, Russia; nationality Russia; citizen Russia; alt. nationality Korea, North; Gender Male; President.",
			want: Entity{
				BirthDates:    []Date{{1952, 10, 7}, {Year: 1958}},
				Nationalities: []string{"ru", "kp"},
				Gender:        "male",
			},
		},
		{
			name:    "documents with country, issue and expiry",
			remarks: "Passport A1234567 (Iran) issued 01 Jan 2010 expires 01 Jan 2020; alt. Passport L 191609 issued 28 Feb 1996; National ID No. 123-45 (Congo, Democratic Republic of the); Tax ID No. 7707083893 (Russia); Registration Number HRA 738077 (Stuttgart) (Germany); Gender Female.",
			want: Entity{
				Gender: "female",
				Identifiers: []Identifier{
					{Type: IDPassport, Value: "A1234567", Country: "ir", Label: "Passport"},
					{Type: IDPassport, Value: "L 191609", Label: "Passport"},
					{Type: IDNational, Value: "123-45", Country: "cd", Label: "National ID No."},
					{Type: IDTax, Value: "7707083893", Country: "ru", Label: "Tax ID No."},
					{Type: IDRegistration, Value: "HRA 738077 (Stuttgart)", Country: "de", Label: "Registration Number"},
				},
			},
		},
		{
			name:    "vessel",
			remarks: "Vessel Registration Identification IMO 7406784; MMSI 572469210; Identification Number IMO 5342883; Other Vessel Call Sign 5IM713.",
			want: Entity{
				Identifiers: []Identifier{
					{Type: IDIMO, Value: "7406784", Label: "Vessel Registration Identification"},
					{Type: IDMMSI, Value: "572469210", Label: "MMSI"},
					{Type: IDIMO, Value: "5342883", Label: "Identification Number"},
					{Type: IDCallSign, Value: "5IM713", Label: "Other Vessel Call Sign"},
				},
			},
		},
		{
			name:    "weak aliases, one with an apostrophe and one with a semicolon",
			remarks: "a.k.a. 'EL SENOR'; f.k.a. 'ABU-'UMAR'; a.k.a. 'A; B'; n.k.a. 'NEW'.",
			want: Entity{
				Names: []Name{{"X", Primary}, {"EL SENOR", Weak}, {"ABU-'UMAR", Weak}, {"A; B", Weak}, {"NEW", Weak}},
			},
		},
		{
			name:    "digital currency",
			remarks: "Digital Currency Address - XBT 12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h; alt. Digital Currency Address - ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96.",
			want: Entity{
				Identifiers: []Identifier{
					{Type: IDCrypto, Value: "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h", Label: "Digital Currency Address - XBT"},
					{Type: IDCrypto, Value: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", Label: "Digital Currency Address - ETH"},
				},
			},
		},
		{
			name:    "free text is not an identifier",
			remarks: "Passport No.: 0310857, Eritrea, Issue Date 21 August 2006, Expire Date 20 August 2008; U.S.A. Passport issued 21 Jun 1992 in Amman, Jordan; nationality possibly Palestinian; a.k.a. 'UNCLOSED",
			want:    Entity{},
		},
		{
			name:    "an alias never closed does not swallow the rest",
			remarks: "a.k.a. 'UNCLOSED; DOB 1970; nationality Iran; Gender Female.",
			want:    Entity{BirthDates: []Date{{Year: 1970}}, Nationalities: []string{"ir"}, Gender: "female"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entity{Remarks: tt.remarks}
			want := tt.want
			want.Remarks = tt.remarks
			if want.Names != nil {
				e.Names = []Name{{"X", Primary}}
			}
			parseOFACRemarks(&e)
			if !reflect.DeepEqual(e, want) {
				t.Errorf("got  %+v\nwant %+v", e, want)
			}
		})
	}
}

func TestParseISODate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"1970", Date{Year: 1970}, true},
		{"1970-03", Date{Year: 1970, Month: 3}, true},
		{"1970-03-15", Date{1970, 3, 15}, true},
		{"2000-02-29", Date{2000, 2, 29}, true},
		{"1900-02-29", Date{}, false},
		{"1970-13", Date{}, false},
		{"1970-00-01", Date{}, false},
		{"1970-3-15", Date{}, false},
		{"70", Date{}, false},
		{"1970-03-15-01", Date{}, false},
		{"0000", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseISODate(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseISODate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCountry(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for unknown
	}{
		{"Russia", "ru"},
		{"Russian Federation", "ru"},
		{"Iran", "ir"},
		{"Iran (Islamic Republic of)", "ir"},
		{"Korea, North", "kp"},
		{"Democratic People's Republic of Korea", "kp"},
		{"North Korea", "kp"},
		{"Korea, South", "kr"},
		{"Burma", "mm"},
		{"Myanmar", "mm"},
		{"Syria", "sy"},
		{"Syrian Arab Republic", "sy"},
		{"Congo, Democratic Republic of the", "cd"},
		{"Democratic Republic of the Congo", "cd"},
		{"Congo", "cg"},
		{"Cote d Ivoire", "ci"},
		{"Côte d’Ivoire", "ci"},
		{"West Bank", "ps"},
		{"Palestinian", "ps"},
		{"State of Palestine", "ps"},
		{"Region: Gaza", "ps"},
		{"United Kingdom", "gb"},
		{"United Kingdom of Great Britain and Northern Ireland", "gb"},
		{"United States", "us"},
		{"Türkiye", "tr"},
		{"Turkey", "tr"},
		{"Virgin Islands, British", "vg"},
		{"Bahamas, The", "bs"},
		{"Man, Isle of", "im"},
		{"Bosnia and Herzegovina", "ba"},
		{"Saint Kitts and Nevis", "kn"},
		{"China, Hong Kong Special Administrative Region", "hk"},
		{"Viet Nam", "vn"},
		{"Kosovo", "xk"},
		{"  RUSSIA  ", "ru"},
		{"na", ""},
		{"former Soviet Union", ""},
		{"undetermined", ""},
		{"ru", ""}, // a code, not a name
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Country(tt.name)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Country(%q) = %q, %v; want %q", tt.name, got, ok, tt.want)
			}
		})
	}
}

func TestCountryCode(t *testing.T) {
	tests := []struct {
		code string
		want string
	}{
		{"RU", "ru"}, {"ru", "ru"}, {"UK", "gb"}, {"XK", "xk"}, {"ZZ", ""}, {"EU", ""},
		{"UN", ""}, {"suhh", ""}, {"R", ""}, {"1a", ""}, {"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, ok := CountryCode(tt.code)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("CountryCode(%q) = %q, %v; want %q", tt.code, got, ok, tt.want)
			}
		})
	}
}
