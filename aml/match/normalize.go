package match

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"github.com/mozillazg/go-unidecode"
)

// token is one word of a normalised name.
type token struct {
	raw    string  // lower-case ASCII, diacritics and punctuation removed
	folded string  // phonetic folding of raw, see fold
	skel   string  // consonant skeleton of folded, see skeleton
	han    bool    // pinyin of Chinese characters: exact syllables, no fuzzy spelling
	weight float64 // how much the word says about identity (set by the index)
}

// honorifics are titles and forms of address in the languages the lists and the customers
// use. They say nothing about who a person is, so they are dropped from person names.
var honorifics = set(
	"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady",
	"herr", "frau", "monsieur", "madame", "mme", "mlle", "senor", "senora", "sr", "sra", "dona", "don",
	"sheikh", "shaikh", "sheik", "shaykh", "haji", "hajji", "hadji", "mullah", "mulla", "maulana", "maulvi",
	"mawlawi", "qari", "sayyed", "sayed", "imam", "emir", "amir", "general", "gen", "colonel", "col",
	"major", "maj", "captain", "capt", "lieutenant", "lt", "admiral", "commander", "brigadier",
	"president", "presidente", "prasident", "praesident", "presiden", "prezident", "predsjednik",
	"presedintele", "presidentti", "elnok", "prezydent", "presidentas", "prezidents", "presidenten",
	"minister", "ministre", "premier", "prime", "chairman", "rev", "reverend", "father", "saint",
	"his", "her", "excellency", "honorable", "hon",
)

// particles are name words that carry little identity: articles, patronymic and kinship
// particles, prepositions. They stay in the name with a low weight.
var particles = set(
	"al", "el", "ul", "ur", "ad", "ed", "as", "ash", "at", "az", "bin", "ibn", "ben", "bint", "binti",
	"abu", "abd", "abdul", "ould", "uld", "de", "del", "della", "der", "den", "di", "da", "das", "dos",
	"du", "la", "le", "van", "von", "ter", "y", "e", "i", "and", "of", "the", "mohammad", "muhammad",
	"mohammed", "muhammed", "mohamed", "ahmad", "ahmed",
)

// legalForms are organisation suffixes and generic company words.
var legalForms = set(
	"llc", "ltd", "limited", "co", "company", "corp", "corporation", "inc", "incorporated", "plc",
	"jsc", "ojsc", "cjsc", "pjsc", "ooo", "ao", "zao", "oao", "pao", "gmbh", "ag", "sa", "sarl", "srl",
	"spa", "bv", "nv", "kg", "llp", "lp", "fze", "fzco", "fzc", "pte", "pvt", "bhd", "sdn", "kk",
	"group", "holding", "holdings", "international", "trading", "enterprise", "enterprises",
	"industrial", "industries", "establishment", "est", "organization", "organisation",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isHan reports whether r is a Chinese character.
func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// words splits a name written in any script into lower-case ASCII words: Chinese characters
// become pinyin syllables (the first of a run is kept apart as the family name, the rest are
// joined, so 李方伟 gives "li fangwei"), other scripts are transliterated with unidecode, and
// diacritics and punctuation go. Apostrophes join ("O'Brien" is "obrien"); hyphens, commas,
// dots and other separators split.
func words(name string) []string {
	var out []string
	var run []rune // a run of Chinese characters
	var buf strings.Builder
	flushHan := func() {
		if len(run) == 0 {
			return
		}
		syl := pinyin.LazyPinyin(string(run), pinyinArgs)
		if len(syl) > 0 {
			out = append(out, hanMark+syl[0])
			if len(syl) > 1 {
				out = append(out, hanMark+strings.Join(syl[1:], ""))
			}
		}
		run = run[:0]
	}
	flushWord := func() {
		if buf.Len() == 0 {
			return
		}
		out = append(out, latinWords(buf.String())...)
		buf.Reset()
	}
	for _, r := range name {
		switch {
		case isHan(r):
			flushWord()
			run = append(run, r)
		case r == '·' || r == '・' || r == '‧' || unicode.IsSpace(r) || r == ',' || r == '-' || r == '/' || r == '(' || r == ')':
			flushHan()
			flushWord()
		default:
			flushHan()
			buf.WriteRune(r)
		}
	}
	flushHan()
	flushWord()
	return out
}

var pinyinArgs = pinyin.NewArgs()

// hanMark prefixes the words that words made from Chinese characters.
const hanMark = "\x01"

// greek holds the modern Greek digraphs whose sound a letter-by-letter transliteration misses:
// ντ is d, μπ is b, γκ and γγ are g, and β is v (Βλαντίμιρ is Vladimir).
var greek = strings.NewReplacer("ντ", "d", "Ντ", "D", "ΝΤ", "D", "μπ", "b", "Μπ", "B", "ΜΠ", "B",
	"γκ", "g", "Γκ", "G", "ΓΚ", "G", "γγ", "g", "β", "v", "Β", "V")

// latinWords transliterates one word-ish chunk to ASCII and splits it into lower-case words.
func latinWords(s string) []string {
	ascii := s
	for _, r := range s {
		if r >= 0x80 {
			if strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Greek, r) }) {
				s = greek.Replace(s)
			}
			ascii = unidecode.Unidecode(s)
			break
		}
	}
	var out []string
	var b strings.Builder
	for i := 0; i < len(ascii); i++ {
		c := ascii[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c == '\'' || c == '`' || c == '*':
			// joins: O'Brien, transliteration marks
		default:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// fold maps a word to a rough phonetic key, so that spellings of one name across languages
// and transliteration systems meet: Putin, Poutine and Putyin; Vladimirovich, Vladimirovitch,
// Wladimirowitsch and Vladimirovič; Mohammed, Muhammad and Mukhammad.
func fold(w string) string {
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		var next byte
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case c == 't' && strings.HasPrefix(w[i:], "tsch"):
			b = append(b, 'c')
			i += 3
		case c == 't' && (next == 'c' || next == 'j' || next == 'x' || next == 's') && (i+2 >= len(w) || w[i+2] != 'h' || next == 'c'):
			b = append(b, 'c')
			i++
			if next == 'c' && i+1 < len(w) && w[i+1] == 'h' {
				i++
			}
			if next == 's' && i+1 < len(w) && w[i+1] == 'j' {
				i++
			}
		case c == 'c' && (next == 'h' || next == 'z' || next == 's'):
			b = append(b, 'c')
			i++
		case c == 's' && (next == 'h' || next == 'z' || next == 'j'):
			b = append(b, 's')
			i++
		case c == 's' && strings.HasPrefix(w[i:], "sch"):
			b = append(b, 's')
			i += 2
		case c == 'g' && next == 'y':
			b = append(b, 'd')
			i++
		case c == 't' && next == 'y':
			b = append(b, 't')
			i++
		case c == 'p' && next == 'h':
			b = append(b, 'v')
			i++
		case c == 'o' && next == 'w' && i+2 < len(w) && !strings.ContainsRune("aeiouy", rune(w[i+2])):
			b = append(b, 'u') // Armenian ու, romanised ow: Powtin
			i++
		case c == 'o' && (next == 'u' || next == 'e' || next == 'o'):
			b = append(b, 'u')
			i++
		case c == 'u' && next == 'e':
			b = append(b, 'u')
			i++
		case c == 'e' && next == 'e':
			b = append(b, 'i')
			i++
		case c == 'a' && next == 'e':
			b = append(b, 'e')
			i++
		case c == 'h' && i > 0:
			// kh, gh, th, dh, bh, zh and a silent h: drop it
		case c == 'w' || c == 'f' || c == 'v':
			b = append(b, 'v')
		case c == 'p':
			b = append(b, 'b')
		case c == 'y' || c == 'j':
			b = append(b, 'i')
		case c == 'q' || c == 'k':
			b = append(b, 'k')
		case c == 'x' && i == 0:
			b = append(b, 's')
		default:
			b = append(b, c)
		}
		if n := len(b); n >= 2 && b[n-1] == b[n-2] {
			b = b[:n-1]
		}
	}
	return string(b)
}

// skeleton keeps the consonants of a word, by sound class, and a leading vowel as "a":
// scripts that write few or no vowels (Arabic, Hebrew) and vowel-heavy romanisations meet on
// it (فلاديمير بوتين gives fldymyr bwtyn, whose skeleton vldmr btn is that of Vladimir Putin).
// W, Y and H are dropped (in those scripts they mostly write vowels), and so are V and F
// (Hebrew writes u with the letter romanised v, Arabic writes v as f); voiced and voiceless
// pairs fall together.
func skeleton(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case 'a', 'e', 'i', 'o', 'u':
			if i == 0 {
				b = append(b, 'a')
			}
			continue
		case 'y', 'w', 'h', 'j', 'v', 'f':
			continue
		case 'p':
			c = 'b'
		case 'q', 'c', 'g':
			c = 'k'
		case 't':
			c = 'd'
		case 'z':
			c = 's'
		}
		if n := len(b); n == 0 || b[n-1] != c {
			b = append(b, c)
		}
	}
	return string(b)
}

// kind of name being normalised: persons drop honorifics, organisations lose weight on legal
// forms.
type nameKind int

const (
	anyName nameKind = iota
	personName
	orgName
)

// tokens normalises a name into its words. Honorifics are dropped from person names (and from
// names of unknown kind when something else is left).
func tokens(name string, kind nameKind) []token {
	ws := words(name)
	keep := ws[:0:0]
	for _, w := range ws {
		if kind != orgName && honorifics[strings.TrimPrefix(w, hanMark)] {
			continue
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		keep = ws
	}
	out := make([]token, 0, len(keep))
	for _, w := range keep {
		han := strings.HasPrefix(w, hanMark)
		w = strings.TrimPrefix(w, hanMark)
		f := fold(w)
		out = append(out, token{raw: w, folded: f, skel: skeleton(w), han: han})
	}
	return out
}
