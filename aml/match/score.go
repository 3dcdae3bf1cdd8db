package match

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/regledger/regledger/aml/list"
)

// Query is what is screened: a name, and the facts that confirm or refute a name match.
type Query struct {
	Name        string
	BirthDate   list.Date       // partial dates allowed; zero when unknown
	Nationality string          // ISO 3166 alpha-2, any case; "" when unknown
	Gender      string          // "male", "female" or ""
	Type        list.EntityType // Unknown when not said
	Threshold   float64         // hits below it are dropped; 0 returns every candidate
	Limit       int             // at most this many hits; 0 means 10
}

// Hit is one list entity that matches a query, with the reasons.
type Hit struct {
	Entity      *list.Entity  `json:"-"`
	Name        string        `json:"name"` // the list name that matched best
	NameKind    list.NameKind `json:"name_kind"`
	Score       float64       `json:"score"`
	Explanation Explanation   `json:"explanation"`
}

// Explanation says how a score was reached: the name similarity and what each other field
// added or took away. Score = clamp(Name + BirthDate + Nationality + Gender + Type + Alias).
type Explanation struct {
	Name        float64     `json:"name"`
	Words       []WordMatch `json:"words"`
	BirthDate   float64     `json:"birth_date"`
	Nationality float64     `json:"nationality"`
	Gender      float64     `json:"gender"`
	Type        float64     `json:"type"`
	Alias       float64     `json:"alias"`
	Summary     string      `json:"summary"`
}

// WordMatch pairs a query word with the list word it matched (normalised forms).
type WordMatch struct {
	Query string  `json:"query"`
	List  string  `json:"list"`
	Sim   float64 `json:"similarity"`
}

// Evidence weights: how much agreeing or disagreeing facts move a name score.
const (
	dobExact       = 0.06
	dobYear        = 0.03
	dobNear        = -0.02 // one year apart
	dobFar         = -0.15 // two to four years apart
	dobVeryFar     = -0.25 // five years or more
	natAgree       = 0.03
	natDisagree    = -0.06
	genderDisagree = -0.12
	typeDisagree   = -0.3
	weakAlias      = -0.08
	// maxEvidence is the most the other facts can add to a name score.
	maxEvidence = dobExact + natAgree
)

// ParseDate reads YYYY, YYYY-MM or YYYY-MM-DD.
func ParseDate(s string) (list.Date, error) {
	var d list.Date
	parts := strings.Split(s, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return d, fmt.Errorf("%w: a date is YYYY, YYYY-MM or YYYY-MM-DD", ErrQuery)
	}
	lim := []int{9999, 12, 31}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 || v > lim[i] || (i > 0 && len(p) != 2) {
			return list.Date{}, fmt.Errorf("%w: a date is YYYY, YYYY-MM or YYYY-MM-DD", ErrQuery)
		}
		switch i {
		case 0:
			d.Year = v
		case 1:
			d.Month = v
		case 2:
			d.Day = v
		}
	}
	return d, nil
}

// Screen returns the entities whose names match q, best first.
func (ix *Index) Screen(q Query) ([]Hit, error) {
	if strings.TrimSpace(q.Name) == "" {
		return nil, fmt.Errorf("%w: a name is required", ErrQuery)
	}
	if len(q.Name) > MaxNameBytes {
		return nil, fmt.Errorf("%w: the name is longer than %d bytes", ErrQuery, MaxNameBytes)
	}
	kind := kindOf(q.Type)
	qt := tokens(q.Name, kind)
	if len(qt) == 0 {
		return nil, fmt.Errorf("%w: the name has no letters", ErrQuery)
	}
	if len(qt) > maxWords {
		qt = qt[:maxWords]
	}
	s := ix.getScratch()
	defer ix.scratch.Put(s)
	ix.queryWeights(qt, kind, s)
	// The estimate of a name's score is generous (it ignores word order conflicts and
	// evidence can add at most 0.09), so names estimated well below the threshold are skipped.
	return ix.rank(qt, q, ix.candidates(qt, q.Threshold, s), s), nil
}

// ScreenAll scores q against every name, without the candidate index. It is the reference the
// index is measured against (same scorer, brute force).
func (ix *Index) ScreenAll(q Query) ([]Hit, error) {
	kind := kindOf(q.Type)
	qt := tokens(q.Name, kind)
	if len(qt) == 0 {
		return nil, fmt.Errorf("%w: the name has no letters", ErrQuery)
	}
	s := ix.getScratch()
	defer ix.scratch.Put(s)
	ix.queryWeights(qt, kind, s)
	all := make([]int32, len(ix.names))
	for i := range all {
		all[i] = int32(i)
	}
	return ix.rank(qt, q, all, s), nil
}

// MaxNameBytes bounds a screened name.
const MaxNameBytes = 512

const maxWords = 12

func (ix *Index) rank(qt []token, q Query, cands []int32, s *scratch) []Hit {
	best := map[int32]Hit{}
	qi := items(qt)
	clear(s.memo)
	for _, n := range cands {
		nm := &ix.names[n]
		e := &ix.entities[nm.entity]
		name, _ := nameScore(qt, qi, nm.items, nm.total, s, false)
		if name < 0.5 || name+maxEvidence < q.Threshold {
			continue
		}
		h := Hit{Entity: e, Name: e.Names[nm.name].Full, NameKind: e.Names[nm.name].Kind}
		h.Explanation = evidence(q, e)
		h.Explanation.Name = round(name)
		if h.NameKind == list.Weak {
			h.Explanation.Alias = weakAlias
		}
		x := h.Explanation
		h.Score = round(math.Max(0, math.Min(1, x.Name+x.BirthDate+x.Nationality+x.Gender+x.Type+x.Alias)))
		if h.Score < q.Threshold {
			continue
		}
		if old, ok := best[nm.entity]; ok && (old.Score > h.Score || old.Score == h.Score && old.Explanation.Name >= h.Explanation.Name) {
			continue
		}
		_, h.Explanation.Words = nameScore(qt, qi, nm.items, nm.total, s, true)
		best[nm.entity] = h
	}
	hits := make([]Hit, 0, len(best))
	for _, h := range best {
		h.Explanation.Summary = summary(h)
		hits = append(hits, h)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		if hits[i].Entity.List != hits[j].Entity.List {
			return hits[i].Entity.List < hits[j].Entity.List
		}
		return hits[i].Entity.SourceID < hits[j].Entity.SourceID
	})
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

// queryWeights gives each query word the weight of the list word it is closest to, or the
// weight of a word no list holds.
func (ix *Index) queryWeights(q []token, kind nameKind, s *scratch) {
	for i := range q {
		w := ix.maxIDF
		if v, ok := ix.vocab[q[i].folded]; ok {
			w = ix.weights[v]
		} else {
			var sims []wordSim
			sims, s.touched = ix.similar(q[i].folded, q[i].raw, s.counts, s.touched, s.jw)
			bestSim := 0.0
			for _, ws := range sims {
				if ws.sim >= 0.9 && ws.sim > bestSim {
					bestSim, w = ws.sim, ix.weights[ws.word]
				}
			}
		}
		q[i].weight = adjust(q[i].raw, w, kind)
	}
}

// item is a word, or two adjacent words joined, on one side of a comparison.
type item struct {
	raw, folded, skel string
	han               bool
	from, to          int // positions covered, inclusive
	weight            float64
}

func items(ts []token) []item {
	out := make([]item, 0, 2*len(ts))
	for i, t := range ts {
		out = append(out, item{t.raw, t.folded, t.skel, t.han, i, i, t.weight})
	}
	for i := 0; i+1 < len(ts); i++ {
		a, b := ts[i], ts[i+1]
		if len(a.raw) == 1 || len(b.raw) == 1 {
			continue
		}
		out = append(out, item{a.raw + b.raw, a.folded + b.folded, skeleton(a.raw + b.raw), a.han || b.han, i, i + 1, a.weight + b.weight})
	}
	return out
}

// wordSim compares two items: the better of the spelling and the phonetic key, initials
// against the first letter.
func itemSim(a, b item, jw []bool) float64 {
	if len(a.raw) == 1 || len(b.raw) == 1 {
		if len(a.raw) == 1 && len(b.raw) == 1 {
			if a.raw == b.raw {
				return 1
			}
			return 0
		}
		if a.raw[0] == b.raw[0] || a.folded[0] == b.folded[0] {
			return 0.9
		}
		return 0
	}
	s := jaroWinkler(a.raw, b.raw, jw)
	if a.han || b.han {
		// Pinyin is exact: chen and cheng are different names, not a misspelling.
		if s < 1 {
			s *= 0.9
		}
		return s
	}
	short := len(a.folded) < 4 || len(b.folded) < 4
	switch {
	case s == 1:
	case short && a.folded == b.folded:
		s = math.Max(s, 0.98)
	case !short:
		s = math.Max(s, jaroWinkler(a.folded, b.folded, jw)*0.98)
	}
	if s < 0.93 && s >= 0.7 && len(a.raw) >= 4 && len(b.raw) >= 4 && len(a.skel) >= 3 && len(b.skel) >= 3 {
		s = math.Max(s, jaroWinkler(a.skel, b.skel, jw)*skeletonSim(a.raw, b.raw, jaroWinkler(a.folded, b.folded, jw)))
	}
	return s
}

// skeletonSim is the similarity of two words with the same consonant skeleton. It applies
// when one of them is written without vowels (a romanised Arabic or Hebrew spelling such as
// fldymyr or bwtyn) or when their phonetic keys are close anyway (budin and butin); a Latin
// name that only shares consonants (putin and petion) gets nothing from it.
func skeletonSim(a, b string, folded float64) float64 {
	if folded >= 0.85 || vowelless(a) || vowelless(b) {
		return 0.93
	}
	return 0
}

// vowelless reports a word of four letters or more with no vowel letter.
func vowelless(w string) bool {
	return len(w) >= 4 && !strings.ContainsAny(w, "aeiou")
}

// credit turns a word similarity into how much of the word counts as matched: near-identical
// words count in full, and the credit falls fast below 0.95 so that unrelated words sharing a
// prefix count for little.
func credit(sim float64) float64 {
	if sim >= 0.95 {
		return sim
	}
	return math.Max(0, 1-(0.95-sim)*4)
}

type pair struct {
	q, c int
	sim  float64
	span int
}

// nameScore compares query words with a list name's words, in any order, joining adjacent
// words on either side where that matches better. The score weighs how much of the query is
// matched (0.6) and how much of the list name (0.4).
func nameScore(qt []token, qi, ci []item, ctotal float64, s *scratch, explain bool) (float64, []WordMatch) {
	pairs := s.pairs[:0]
	for b := range ci {
		// Names share words: the similarities of a list word to the query are computed once
		// per query.
		key := ci[b].raw + "\x00" + ci[b].folded
		sims, ok := s.memo[key]
		if !ok {
			sims = make([]float64, len(qi))
			for a := range qi {
				sims[a] = itemSim(qi[a], ci[b], s.jw)
			}
			s.memo[key] = sims
		}
		for a, sim := range sims {
			if sim >= 0.8 {
				pairs = append(pairs, pair{a, b, sim, qi[a].to - qi[a].from + ci[b].to - ci[b].from})
			}
		}
	}
	s.pairs = pairs
	if len(pairs) == 0 {
		return 0, nil
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		switch {
		case x.sim != y.sim:
			return cmp.Compare(y.sim, x.sim)
		case x.span != y.span:
			return cmp.Compare(x.span, y.span)
		case x.q != y.q:
			return cmp.Compare(x.q, y.q)
		}
		return cmp.Compare(x.c, y.c)
	})
	var qUsed, cUsed uint64
	var qGot, cGot, qTotal float64
	for _, t := range qt {
		qTotal += t.weight
	}
	var words []WordMatch
	for _, p := range pairs {
		a, b := qi[p.q], ci[p.c]
		qm, cm := span(a.from, a.to), span(b.from, b.to)
		if qUsed&qm != 0 || cUsed&cm != 0 {
			continue
		}
		qUsed |= qm
		cUsed |= cm
		cr := credit(p.sim)
		qGot += cr * a.weight
		cGot += cr * b.weight
		if explain {
			words = append(words, WordMatch{Query: a.raw, List: b.raw, Sim: round(p.sim)})
		}
	}
	if qTotal == 0 || ctotal == 0 {
		return 0, nil
	}
	return 0.6*qGot/qTotal + 0.4*cGot/ctotal, words
}

func span(from, to int) uint64 {
	var m uint64
	for i := from; i <= to && i < 64; i++ {
		m |= 1 << i
	}
	return m
}

// evidence scores the facts other than the name.
func evidence(q Query, e *list.Entity) Explanation {
	var x Explanation
	if q.BirthDate.Year != 0 && len(e.BirthDates) > 0 {
		x.BirthDate = -1
		for _, d := range e.BirthDates {
			x.BirthDate = math.Max(x.BirthDate, dateEvidence(q.BirthDate, d))
		}
	}
	if q.Nationality != "" && len(e.Nationalities) > 0 {
		x.Nationality = natDisagree
		for _, n := range e.Nationalities {
			if strings.EqualFold(n, q.Nationality) {
				x.Nationality = natAgree
			}
		}
	}
	if q.Gender != "" && e.Gender != "" && !strings.EqualFold(q.Gender, e.Gender) {
		x.Gender = genderDisagree
	}
	if q.Type != list.Unknown && e.Type != list.Unknown && q.Type != e.Type {
		x.Type = typeDisagree
	}
	return x
}

func dateEvidence(a, b list.Date) float64 {
	diff := a.Year - b.Year
	if diff < 0 {
		diff = -diff
	}
	switch {
	case diff >= 5:
		return dobVeryFar
	case diff >= 2:
		return dobFar
	case diff == 1:
		return dobNear
	}
	if a.Month == 0 || b.Month == 0 {
		return dobYear
	}
	if a.Month != b.Month {
		if a.Day != 0 && b.Day != 0 && a.Day == b.Month && a.Month == b.Day {
			return dobYear // day and month swapped
		}
		return 0
	}
	if a.Day == 0 || b.Day == 0 || a.Day == b.Day {
		return dobExact
	}
	return dobYear
}

func summary(h Hit) string {
	x := h.Explanation
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s matched %s name (%.3f)", h.Entity.List, h.Entity.SourceID, h.NameKind, x.Name)
	add := func(label string, v float64) {
		if v != 0 {
			fmt.Fprintf(&b, ", %s %+.2f", label, v)
		}
	}
	add("birth date", x.BirthDate)
	add("nationality", x.Nationality)
	add("gender", x.Gender)
	add("type", x.Type)
	add("weak alias", x.Alias)
	fmt.Fprintf(&b, " = %.3f", h.Score)
	return b.String()
}

// DefaultThreshold is the score from which a hit is reported when the use does not set one.
const DefaultThreshold = 0.8
