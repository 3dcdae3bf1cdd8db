package aml

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/kyc"
)

// Records finds KYC records by identity commitment without their personal data, and the risk
// rating institutions gave them, in one read. *kyc.Service implements it. Implementations are
// safe for concurrent use; an unknown commitment has no records and no rating, which is not an
// error.
type Records interface {
	MetaAndRiskByCommitment(ctx context.Context, c [32]byte) ([]*kyc.Record, string, error)
}

var _ Records = (*kyc.Service)(nil)

// DefaultInfoTTL is how long MonitorInfo keeps an answer when nothing it watches changes.
const DefaultInfoTTL = 30 * time.Second

// maxInfoCache bounds MonitorInfo's cache; a full cache is emptied.
const maxInfoCache = 1 << 16

// InfoOption configures a MonitorInfo.
type InfoOption func(*MonitorInfo)

// WithInfoTTL sets how long an answer is kept (DefaultInfoTTL by default). Changes that pass
// through the Service (a new snapshot, a screening, a clearance) drop the cache at once; the
// TTL bounds how long other changes (a KYC withdrawal, a new rating, a clearance expiring, a
// record added by another process) take to be seen.
func WithInfoTTL(d time.Duration) InfoOption { return func(m *MonitorInfo) { m.ttl = d } }

// WithInfoClock sets the clock of the TTL and of clearance expiry (time.Now by default).
func WithInfoClock(now func() time.Time) InfoOption { return func(m *MonitorInfo) { m.clock = now } }

// MonitorInfo is the monitor.SubjectInfo of KYC records and list screening. For an identity
// commitment it answers:
//
//   - Kind: from the newest KYC record with the commitment (an approved one if there is
//     one): "person", or "organisation" for organisations and regulators;
//   - CrossBorder: that record is not PRC-domiciled (identified by a passport or a permit);
//   - Listed: any record with the commitment, whatever its status, has a standing screening hit
//     with a score at the re-screening threshold or above, that no analyst cleared (or whose
//     clearance expired or whose entry changed since), on an entry still in the current
//     snapshot (or in a newer one this node has not loaded yet);
//   - PEP: such a hit is on an entry with an OpenSanctions PEP topic ("role.pep",
//     "role.pep.*", or "role.rca" for relatives and close associates). Only OpenSanctions data
//     carries topics: a custom (domestic) list marks no one a PEP;
//   - RiskHigh: such a hit is on a sanctions list proper (OFAC SDN and consolidated, UN
//     Security Council, an OpenSanctions entry with the "sanction" topic; custom lists only
//     make Listed), or an institution rated a live record with the commitment high risk.
//
// Answers come from a cache, dropped whenever the Service loads a snapshot, saves a
// screening or records a clearance, and otherwise kept for the TTL. An unknown commitment, or
// a string that is not one, is the zero Info. MonitorInfo is safe for concurrent use. It never
// reads or returns personal data.
type MonitorInfo struct {
	svc   *Service
	recs  Records
	ttl   time.Duration
	clock func() time.Time

	mu    sync.Mutex
	gen   uint64 // the Service's gen the cache was filled at
	cache map[[32]byte]infoEntry
}

type infoEntry struct {
	info  monitor.Info
	until time.Time
}

var _ monitor.SubjectInfo = (*MonitorInfo)(nil)

// NewMonitorInfo returns the SubjectInfo of s's screening and recs' KYC records.
func NewMonitorInfo(s *Service, recs Records, opts ...InfoOption) (*MonitorInfo, error) {
	if s == nil || recs == nil {
		return nil, fmt.Errorf("%w: monitor info needs the screening service and the KYC records", ErrConfig)
	}
	m := &MonitorInfo{svc: s, recs: recs, ttl: DefaultInfoTTL, clock: time.Now, cache: map[[32]byte]infoEntry{}}
	for _, o := range opts {
		o(m)
	}
	if m.ttl < 0 || m.clock == nil {
		return nil, fmt.Errorf("%w: monitor info: negative TTL or no clock", ErrConfig)
	}
	return m, nil
}

// Subject implements monitor.SubjectInfo. An error (the store failed) is not cached.
func (m *MonitorInfo) Subject(ctx context.Context, commitment string) (monitor.Info, error) {
	var c [32]byte
	if len(commitment) != 2*len(c) || strings.ToLower(commitment) != commitment {
		return monitor.Info{}, nil
	}
	if _, err := hex.Decode(c[:], []byte(commitment)); err != nil {
		return monitor.Info{}, nil
	}
	gen := m.svc.gen.Load()
	now := m.clock()
	m.mu.Lock()
	if gen > m.gen { // a caller that read gen before another moved it on must not turn m.gen back
		clear(m.cache)
		m.gen = gen
	}
	e, ok := m.cache[c]
	m.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.info, nil
	}
	in, err := m.lookup(ctx, c, now)
	if err != nil {
		return monitor.Info{}, fmt.Errorf("aml: monitor info: %w", err)
	}
	m.mu.Lock()
	// An answer computed while something changed may be stale: give it, do not keep it.
	if m.svc.gen.Load() == gen && m.gen == gen {
		if len(m.cache) >= maxInfoCache {
			clear(m.cache)
		}
		m.cache[c] = infoEntry{info: in, until: now.Add(m.ttl)}
	}
	m.mu.Unlock()
	return in, nil
}

// lookup computes the Info of commitment c from the stores.
func (m *MonitorInfo) lookup(ctx context.Context, c [32]byte, now time.Time) (monitor.Info, error) {
	recs, risk, err := m.recs.MetaAndRiskByCommitment(ctx, c)
	if err != nil {
		return monitor.Info{}, err
	}
	if len(recs) == 0 {
		return monitor.Info{}, nil
	}
	var in monitor.Info
	ref := recs[len(recs)-1] // oldest first: the newest, unless an approved one is found
	for _, r := range slices.Backward(recs) {
		if r.Status == kyc.Approved {
			ref = r
			break
		}
	}
	in.Kind = "person"
	if ref.Kind != kyc.Person {
		in.Kind = "organisation"
	}
	in.CrossBorder = !ref.PRCDomicile
	in.RiskHigh = risk == kyc.RiskHigh

	cur := m.svc.cur.Load()
	threshold := m.svc.cfg.Thresholds.Rescreen
	for _, r := range recs {
		results, err := m.svc.store.Results(ctx, r.ID)
		if err != nil {
			return monitor.Info{}, err
		}
		if len(results) == 0 {
			continue
		}
		cleared, err := m.svc.store.Clearances(ctx, r.ID)
		if err != nil {
			return monitor.Info{}, err
		}
		for _, h := range results {
			if h.Score < threshold || isCleared(cleared, h.List, h.SourceID, h.EntityHash, now) {
				continue
			}
			var e *list.Entity
			if cur != nil {
				e = cur.entries[entryKey{h.List, h.SourceID}].e
			}
			if e == nil && cur != nil && h.Snapshot <= cur.snap.Version {
				continue // the entry left the lists since the hit
			}
			in.Listed = true
			in.PEP = in.PEP || (e != nil && pepEntry(e))
			in.RiskHigh = in.RiskHigh || sanctionsEntry(h.List, e)
		}
	}
	return in, nil
}

// isCleared reports whether a clearance in force covers a hit on the entry listName/sourceID
// whose hash is hash: same entry, unchanged, not expired.
func isCleared(cleared []Clearance, listName, sourceID, hash string, now time.Time) bool {
	return slices.ContainsFunc(cleared, func(cl Clearance) bool {
		return cl.List == listName && cl.SourceID == sourceID && cl.EntityHash == hash &&
			(cl.Expires.IsZero() || now.Before(cl.Expires))
	})
}

// pepEntry reports whether an entry carries an OpenSanctions PEP topic.
func pepEntry(e *list.Entity) bool {
	return slices.ContainsFunc(e.Topics, func(t string) bool {
		return t == "role.pep" || strings.HasPrefix(t, "role.pep.") || t == "role.rca"
	})
}

// sanctionsEntry reports whether a hit on listName (entry e, nil when not loaded here) is on a
// sanctions list proper rather than a watch list.
func sanctionsEntry(listName string, e *list.Entity) bool {
	switch listName {
	case list.OFACSDN, list.OFACCons, list.UNSC:
		return true
	case list.OpenSanctions:
		return e != nil && slices.Contains(e.Topics, "sanction")
	}
	return false
}
