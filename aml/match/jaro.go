package match

// jaroWinkler returns the Jaro–Winkler similarity of a and b (0 to 1), with the usual prefix
// scale 0.1 over at most four characters. The inputs are byte strings of the folded ASCII
// alphabet; scratch is reused to avoid allocations and must hold at least len(a)+len(b) bools.
func jaroWinkler(a, b string, scratch []bool) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > lb {
		a, b, la, lb = b, a, lb, la
	}
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}
	if cap(scratch) < la+lb {
		scratch = make([]bool, la+lb)
	}
	ma, mb := scratch[:la], scratch[la:la+lb]
	clear(ma)
	clear(mb)
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb, i+window+1)
		for j := lo; j < hi; j++ {
			if !mb[j] && a[i] == b[j] {
				ma[i], mb[j] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, j := 0, 0
	for i := 0; i < la; i++ {
		if !ma[i] {
			continue
		}
		for !mb[j] {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	fm := float64(m)
	jaro := (fm/float64(la) + fm/float64(lb) + (fm-float64(t)/2)/fm) / 3
	prefix := 0
	for prefix < 4 && prefix < la && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
