package match

import (
	"math"
	"sort"
	"sync"

	"github.com/regledger/regledger/aml/list"
)

// Index is an immutable screening index over list entities. It is safe for concurrent use.
//
// Candidate generation does not scan every name: the distinct folded words of all names form a
// vocabulary with a trigram index, a query word finds the vocabulary words that share enough
// trigrams with it and are close by Jaro–Winkler, and only names holding one of those words are
// scored in full.
type Index struct {
	entities []list.Entity
	names    []indexedName
	vocab    map[string]int32
	words    []string  // vocabulary, folded
	weights  []float64 // per vocabulary word
	postings [][]int32 // vocabulary word → names holding it
	grams    map[uint32][]int32
	skels    map[string][]int32 // consonant skeleton → vocabulary words
	maxIDF   float64
	scratch  sync.Pool
}

type indexedName struct {
	entity int32
	name   int32 // position in the entity's Names
	toks   []token
	ids    []int32 // vocabulary ids of toks
	items  []item  // the words and adjacent pairs joined, as nameScore compares them
	total  float64 // sum of the token weights
}

// NewIndex builds an index over entities. The slice is kept; the caller must not change it.
func NewIndex(entities []list.Entity) *Index {
	ix := &Index{entities: entities, vocab: map[string]int32{}, grams: map[uint32][]int32{}, skels: map[string][]int32{}}
	df := []int32{}
	for ei := range entities {
		e := &entities[ei]
		kind := kindOf(e.Type)
		for ni, n := range e.Names {
			toks := tokens(n.Full, kind)
			if len(toks) == 0 {
				continue
			}
			id := int32(len(ix.names))
			ix.names = append(ix.names, indexedName{entity: int32(ei), name: int32(ni), toks: toks})
			seen := map[int32]bool{}
			for _, t := range toks {
				v, ok := ix.vocab[t.folded]
				if !ok {
					v = int32(len(ix.words))
					ix.vocab[t.folded] = v
					ix.words = append(ix.words, t.folded)
					ix.postings = append(ix.postings, nil)
					df = append(df, 0)
					for _, g := range trigrams(t.folded) {
						ix.grams[g] = append(ix.grams[g], v)
					}
					if sk := skeleton(t.folded); len(sk) >= 3 {
						ix.skels[sk] = append(ix.skels[sk], v)
					}
				}
				if !seen[v] {
					seen[v] = true
					df[v]++
					ix.postings[v] = append(ix.postings[v], id)
				}
			}
		}
	}
	n := float64(len(ix.names))
	ix.maxIDF = math.Log((n + 1) / 0.5)
	ix.weights = make([]float64, len(ix.words))
	for v := range ix.words {
		ix.weights[v] = idf(n, float64(df[v]))
	}
	for i := range ix.names {
		nm := &ix.names[i]
		kind := kindOf(entities[nm.entity].Type)
		for j := range nm.toks {
			t := &nm.toks[j]
			t.weight = adjust(t.raw, ix.weights[ix.vocab[t.folded]], kind)
			nm.total += t.weight
		}
		nm.items = items(nm.toks)
		for _, t := range nm.toks {
			nm.ids = append(nm.ids, ix.vocab[t.folded])
		}
	}
	return ix
}

func idf(n, df float64) float64 { return math.Log((n + 1) / (df + 0.5)) }

// adjust lowers the weight of particles, legal forms and initials.
func adjust(raw string, w float64, kind nameKind) float64 {
	switch {
	case len(raw) == 1:
		w *= 0.3
	case particles[raw]:
		w *= 0.25
	case kind == orgName && legalForms[raw]:
		w *= 0.2
	}
	return math.Max(w, 0.05)
}

func kindOf(t list.EntityType) nameKind {
	switch t {
	case list.Person:
		return personName
	case list.Unknown:
		return anyName
	default:
		return orgName
	}
}

// Len returns the number of entities and of indexed names.
func (ix *Index) Len() (entities, names int) { return len(ix.entities), len(ix.names) }

// trigrams returns the padded character trigrams of a folded word, packed in 24 bits.
func trigrams(w string) []uint32 {
	p := "^" + w + "$"
	if len(p) < 3 {
		return nil
	}
	out := make([]uint32, 0, len(p)-2)
	for i := 0; i+3 <= len(p); i++ {
		out = append(out, uint32(p[i])<<16|uint32(p[i+1])<<8|uint32(p[i+2]))
	}
	return out
}

// similar returns the vocabulary words close to the folded word w, with their similarity.
func (ix *Index) similar(w, raw string, counts []uint16, touched []int32, jw []bool) ([]wordSim, []int32) {
	var out []wordSim
	if v, ok := ix.vocab[w]; ok {
		out = append(out, wordSim{v, 1})
	}
	if len(w) < 3 {
		return out, touched
	}
	gs := trigrams(w)
	need := uint16(max(2, (len(gs)+2)/3))
	for _, g := range gs {
		for _, v := range ix.grams[g] {
			if counts[v] == 0 {
				touched = append(touched, v)
			}
			counts[v]++
		}
	}
	// Words with the same consonant skeleton come in as itemSim scores them.
	sk := skeleton(w)
	if len(sk) >= 3 && len(w) >= 4 {
		for _, v := range ix.skels[sk] {
			if counts[v] == 0 {
				touched = append(touched, v)
			}
			counts[v] += 1 << 12
		}
	}
	for _, v := range touched {
		c := counts[v]
		counts[v] = 0
		if c >= 1<<12 && ix.words[v] != w {
			if js := jaroWinkler(w, ix.words[v], jw); js >= 0.7 {
				if ss := skeletonSim(raw, ix.words[v], js); ss > 0 {
					out = append(out, wordSim{v, max(ss, js)})
				}
			}
			continue
		}
		if c < need || ix.words[v] == w {
			continue
		}
		lv := len(ix.words[v])
		if lv*3 < len(w) || len(w)*3 < lv {
			continue
		}
		if s := jaroWinkler(w, ix.words[v], jw); s >= candidateSim {
			out = append(out, wordSim{v, s})
		}
	}
	return out, touched[:0]
}

type wordSim struct {
	word int32
	sim  float64
}

// candidateSim is the word similarity from which a vocabulary word brings its names in as
// candidates.
const candidateSim = 0.82

// maxCandidates bounds how many names a query scores in full.
const maxCandidates = 48

type scratch struct {
	counts  []uint16
	touched []int32
	jw      []bool
	pairs   []pair
	memo    map[string][]float64 // list item → its similarity to each query item
	// Dense per-name accumulators, zero between queries, with the lists of names touched.
	acc, accC, best, bestC []float64
	names, hit             []int32
	wsim                   []float64 // per vocabulary word, zero between lookups
}

func (ix *Index) getScratch() *scratch {
	if s, ok := ix.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{counts: make([]uint16, len(ix.words)), jw: make([]bool, 256), memo: map[string][]float64{},
		acc: make([]float64, len(ix.names)), accC: make([]float64, len(ix.names)),
		best: make([]float64, len(ix.names)), bestC: make([]float64, len(ix.names)), wsim: make([]float64, len(ix.words))}
}

// candidates returns the names worth scoring for the query words, best first by a cheap
// estimate of nameScore: for each query word (and each pair of adjacent words joined), the best
// similar word a name holds counts once, with the query word's weight on the query side and
// the list word's weight on the name side.
func (ix *Index) candidates(q []token, threshold float64, s *scratch) []int32 {
	type lookup struct {
		word   string
		raw    string
		weight float64
		joined bool
	}
	qTotal := 0.0
	for _, t := range q {
		qTotal += t.weight
	}
	// Joined pairs first, then the words by weight, rarest first: once the words left could
	// not lift a name that none of the earlier words brought in to the threshold, the common
	// words that remain only add to the names already found.
	lookups := make([]lookup, 0, 2*len(q))
	for i := 0; i+1 < len(q); i++ {
		lookups = append(lookups, lookup{q[i].folded + q[i+1].folded, q[i].raw + q[i+1].raw, q[i].weight + q[i+1].weight, true})
	}
	base := len(lookups)
	for _, t := range q {
		lookups = append(lookups, lookup{t.folded, t.raw, t.weight, false})
	}
	sort.SliceStable(lookups[base:], func(i, j int) bool { return lookups[base+i].weight > lookups[base+j].weight })
	remaining := qTotal
	floor := max(0, threshold-0.35)
	for _, l := range lookups {
		introduce := l.joined || threshold == 0 || 0.6*remaining/qTotal+0.4+0.09 >= threshold
		if !l.joined {
			remaining -= l.weight
		}
		var sims []wordSim
		sims, s.touched = ix.similar(l.word, l.raw, s.counts, s.touched, s.jw)
		if !introduce {
			for _, ws := range sims {
				s.wsim[ws.word] = credit(ws.sim)
			}
			for _, n := range s.names {
				var gq, gc float64
				for _, id := range ix.names[n].ids {
					if cr := s.wsim[id]; cr > 0 {
						gq, gc = max(gq, cr*l.weight), max(gc, cr*ix.weights[id])
					}
				}
				s.acc[n] += gq
				s.accC[n] += gc
			}
			for _, ws := range sims {
				s.wsim[ws.word] = 0
			}
			continue
		}
		s.hit = s.hit[:0]
		for _, ws := range sims {
			cr := credit(ws.sim)
			gq, gc := cr*l.weight, cr*ix.weights[ws.word]
			for _, n := range ix.postings[ws.word] {
				if s.best[n] == 0 && s.bestC[n] == 0 {
					s.hit = append(s.hit, n)
				}
				s.best[n] = max(s.best[n], gq)
				s.bestC[n] = max(s.bestC[n], gc)
			}
		}
		for _, n := range s.hit {
			if s.acc[n] == 0 && s.accC[n] == 0 {
				s.names = append(s.names, n)
			}
			s.acc[n] += s.best[n]
			s.accC[n] += s.bestC[n]
			s.best[n], s.bestC[n] = 0, 0
		}
	}
	type cand struct {
		name  int32
		score float64
	}
	cs := make([]cand, 0, 64)
	for _, n := range s.names {
		// The estimate mirrors nameScore: how much of the query and of the name is covered.
		est := 0.6*min(1, s.acc[n]/qTotal) + 0.4*min(1, s.accC[n]/ix.names[n].total)
		s.acc[n], s.accC[n] = 0, 0
		if est >= floor {
			cs = append(cs, cand{n, est})
		}
	}
	s.names = s.names[:0]
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].score != cs[j].score {
			return cs[i].score > cs[j].score
		}
		return cs[i].name < cs[j].name
	})
	if len(cs) > maxCandidates {
		cs = cs[:maxCandidates]
	}
	out := make([]int32, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}
