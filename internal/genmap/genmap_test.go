package genmap

import "testing"

func TestBoundedAndRecent(t *testing.T) {
	m := New[int, string](3)
	for i := range 10 {
		m.Put(i, "v")
		if m.Len() > 6 {
			t.Fatalf("holds %d entries, bound 6", m.Len())
		}
	}
	if _, ok := m.Get(0); ok {
		t.Fatal("the oldest generation was kept")
	}
	if v, ok := m.Get(9); !ok || v != "v" {
		t.Fatal("the newest entry was lost")
	}
	// An entry read from the previous generation survives the next turnover.
	m2 := New[int, int](2)
	m2.Put(1, 1)
	m2.Put(2, 2)
	m2.Put(3, 3) // 1, 2 now previous
	if _, ok := m2.Get(1); !ok {
		t.Fatal("previous generation not readable")
	}
	m2.Put(4, 4) // turnover: current {3,1} → previous
	if _, ok := m2.Get(1); !ok {
		t.Fatal("a recently read entry was dropped")
	}
	m2.Delete(1)
	if _, ok := m2.Get(1); ok {
		t.Fatal("deleted entry still there")
	}
}
