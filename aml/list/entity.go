package list

// Well-known list names, as screening hits report them.
const (
	OFACSDN       = "us_ofac_sdn"
	OFACCons      = "us_ofac_cons"
	UNSC          = "un_sc"
	OpenSanctions = "opensanctions"
)

// EntityType is what a list entry designates.
type EntityType string

// Entity types. Unknown is used where a list does not say.
const (
	Person       EntityType = "person"
	Organisation EntityType = "organisation"
	Vessel       EntityType = "vessel"
	Aircraft     EntityType = "aircraft"
	Unknown      EntityType = ""
)

// NameKind says how a list presents a name.
type NameKind string

// Name kinds: the primary name, a strong alias (aka), a weak or low-quality alias, a former
// name (fka) and a new name (nka).
const (
	Primary  NameKind = "primary"
	Alias    NameKind = "aka"
	Weak     NameKind = "weak"
	Former   NameKind = "fka"
	NowKnown NameKind = "nka"
)

// Name is one name of an entity, as the list writes it (not normalised).
type Name struct {
	Full string   `json:"full"`
	Kind NameKind `json:"kind"`
}

// Date is a possibly partial date: Month and Day are 0 when the list gives only a year or a
// year and month.
type Date struct {
	Year  int `json:"year"`
	Month int `json:"month,omitempty"`
	Day   int `json:"day,omitempty"`
}

// Address is a postal address of an entity.
type Address struct {
	Street  string `json:"street,omitempty"`
	City    string `json:"city,omitempty"`
	Country string `json:"country,omitempty"` // ISO 3166 alpha-2, lower case, when known
	Text    string `json:"text,omitempty"`    // the address as the list writes it
}

// Identifier is a document or registration number (passport, national id, tax id, IMO...).
type Identifier struct {
	Type    string `json:"type"` // one of the ID* constants (custom lists may use their own)
	Value   string `json:"value"`
	Country string `json:"country,omitempty"` // ISO 3166 alpha-2, lower case, when known
	Label   string `json:"label,omitempty"`   // the list's own name for the document, when it has one
}

// Identifier types. The list's own wording ("Cedula No.", "C.U.R.P.", "Tax ID No.") is kept in
// Identifier.Label; Type groups them so that a matcher can compare like with like.
const (
	IDPassport     = "passport"       // passports and travel documents
	IDNational     = "national_id"    // national identity numbers and cards, personal codes
	IDTax          = "tax_id"         // tax and VAT numbers
	IDRegistration = "registration"   // company, trade and business registration numbers
	IDIMO          = "imo"            // IMO ship or company number (digits only)
	IDMMSI         = "mmsi"           // maritime mobile service identity
	IDCallSign     = "call_sign"      // radio call sign of a vessel
	IDSWIFT        = "swift_bic"      // SWIFT/BIC code
	IDLEI          = "lei"            // legal entity identifier
	IDCrypto       = "crypto_address" // digital currency address; Label names the currency
	IDAircraft     = "aircraft"       // tail number, manufacturer's serial number, transponder code
	IDUNReference  = "un_reference"   // UN Security Council permanent reference number (QDi.001)
	IDOther        = "other"          // anything else; Label says what
)

// Entity is one list entry in the normalised model.
type Entity struct {
	List          string       `json:"list"`      // OFACSDN, OFACCons, UNSC, OpenSanctions or a custom list's name
	SourceID      string       `json:"source_id"` // the list's own id: OFAC ent_num, UN DATAID, FtM id
	Type          EntityType   `json:"type"`
	Names         []Name       `json:"names"` // the primary name first
	BirthDates    []Date       `json:"birth_dates,omitempty"`
	Gender        string       `json:"gender,omitempty"`        // "male", "female" or ""
	Nationalities []string     `json:"nationalities,omitempty"` // ISO 3166 alpha-2, lower case
	Addresses     []Address    `json:"addresses,omitempty"`
	Identifiers   []Identifier `json:"identifiers,omitempty"`
	Programmes    []string     `json:"programmes,omitempty"`
	Topics        []string     `json:"topics,omitempty"` // OpenSanctions topics ("sanction", "role.pep"...); empty for other lists
	Remarks       string       `json:"remarks,omitempty"`
}

// Primary returns the entity's primary name ("" when it has no name).
func (e *Entity) Primary() string {
	if len(e.Names) == 0 {
		return ""
	}
	return e.Names[0].Full
}
