// Package list reads sanctions and watch lists into one normalised entity model: OFAC's
// legacy CSV files (SDN and the consolidated non-SDN list), the UN Security Council
// consolidated XML, OpenSanctions FollowTheMoney JSON lines, and a documented custom CSV for
// domestic and internal lists. The format of a file is recognised by its content.
//
// # Reading lists
//
// [ReadPaths] takes files and folders (folders are walked; files and folders whose name
// starts with "." are skipped) and returns one [Set] per list, sorted by list name, with
// the entities of each list in file order. Every file must be recognised, or the whole
// load fails: a partly loaded sanctions list is worse than none. A format is recognised by
// content, never by extension:
//
//   - UN SC consolidated XML: an XML document whose root element is CONSOLIDATED_LIST.
//   - OpenSanctions FollowTheMoney: JSON lines whose first object has "schema" and
//     "properties".
//   - custom CSV: a header row naming only the columns listed below, at least list,
//     source_id and name.
//   - OFAC legacy CSV: no header; the first field of the first record is a number
//     (ent_num), and the number of fields tells the file apart: 12 for the primary file
//     (sdn.csv, cons_prim.csv), 6 for addresses (add.csv), 5 for aliases (alt.csv) and 2 for
//     the remarks overflow (sdn_comments.csv). The OFAC files of one folder make one load;
//     exactly one primary file is needed. The SDN and the consolidated (non-SDN) list have
//     the same layout and no field that tells them apart, so the file name decides: a name
//     starting with "cons_" belongs to [OFACCons], any other to [OFACSDN].
//
// The parse functions [ParseOFAC], [ParseUN], [ParseFtM] and [ParseCustom] read one format
// from readers. Errors are [*ParseError] values that say which file, line or element was
// bad, never the value found there (list entries are personal data); their kind is one of
// the sentinels in errors.go, for [errors.Is]. Every parser refuses an empty input, a
// truncated one (an XML document or a quoted CSV field cut short; an OFAC file whose last
// line is not terminated), a wrong encoding (a UTF-16 byte order mark, invalid UTF-8, any
// byte outside ASCII in OFAC's files) and a list without entries.
//
// # What is taken from each list
//
// OFAC: ent_num is the SourceID; SDN_Type individual, vessel and aircraft map to [Person],
// [Vessel] and [Aircraft], "-0-" to [Organisation]. Names are kept as written ("LAST,
// First"). alt.csv types aka, fka and nka give [Alias], [Former] and [NowKnown]; the
// single-quoted a.k.a./f.k.a./n.k.a. names that OFAC puts in the remarks are its weak
// (low-quality) aliases and become [Weak]. The remarks, with their continuation from the
// comments file appended (rows for ent_nums without a primary record are ignored), give
// dates of birth (full dates, "Oct 1952", "1952", "circa 1960", ranges as each year),
// nationality and citizenship, gender and identifiers (type, value and country). The
// remarks stay in Remarks as written.
//
// UN: DATAID is the SourceID; FIRST_NAME to FOURTH_NAME joined make the primary name;
// NAME_ORIGINAL_SCRIPT and aliases of quality Good or a.k.a. are [Alias], Low is [Weak],
// f.k.a. is [Former]; dates of birth (EXACT, APPROXIMATELY, BETWEEN as each year, and those
// given with an alias), NATIONALITY, GENDER (or "Gender: male" in the comments, where most
// designations say it), documents, addresses, UN_LIST_TYPE as the programme,
// REFERENCE_NUMBER as an [IDUNReference] identifier and COMMENTS1 as remarks.
//
// OpenSanctions: only entities marked "target": true of the schemas Person, Organization,
// Company, LegalEntity, PublicBody, Vessel and Airplane are loaded; the FtM id is the
// SourceID. Other entities are context: Address entities fill in the addressEntity
// references, Sanction entities add their programId to the programmes of the entity they
// name (an entity's own programId, or program when it has none, comes first), Passport and Identification entities add their number to their holder.
// The caption is the primary name; name values and alias are [Alias], weakAlias and
// abbreviation [Weak], previousName [Former]. Nationality codes that are not two letters
// (OpenSanctions uses "suhh" for the Soviet Union) are dropped.
//
// # Custom CSV
//
// Domestic and internal lists are written as UTF-8 CSV (comma separated, RFC 4180 quoting,
// an optional UTF-8 byte order mark) with a header row. The columns, in any order:
//
//	list          required; the list's name, e.g. "internal_blocklist": lower-case letters,
//	              digits, '_', '-' and '.'; the names of the lists above are reserved
//	source_id     required; the entry's id, unique within its list
//	type          person, organisation (or organization), vessel, aircraft, or empty
//	name          required; the primary name, as written
//	aliases       names separated by ';'; a name may start with "weak:", "fka:" or "nka:"
//	              to give its kind, otherwise it is an aka
//	birth_dates   dates separated by ';': YYYY, YYYY-MM or YYYY-MM-DD
//	nationalities ISO 3166 alpha-2 codes or English country names, separated by ';'
//	gender        male, female or empty
//	identifiers   type:value[:country] separated by ';'; type is one of the ID* constants
//	              or another lower-case word; a final ":xx" that is an ISO 3166 alpha-2
//	              code is the issuing country
//	programmes    programme names separated by ';'
//	remarks       free text
//
// Only list, source_id and name are required; a missing column is empty for every row. One
// file may hold several lists. A file without rows is refused like any empty list. See
// testdata/custom_example.csv.
package list
