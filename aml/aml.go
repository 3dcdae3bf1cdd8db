// Package aml screens persons and organisations against sanctions and watch lists and keeps
// the lists as versioned snapshots. A new snapshot re-screens every approved subject and
// raises alerts only for new or changed hits; analysts clear false positives per subject and
// list entry. Screening is served from an in-memory index (package match) over the current
// snapshot, kept in a Store (package sqlstore). Monitoring of ledger flows is in package
// monitor.
package aml

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/match"
	"github.com/regledger/regledger/internal/audit"
)

// Uses of screening, each with its own threshold.
const (
	UseOnboarding = "onboarding"
	UsePayment    = "payment"
	UseRescreen   = "rescreen"
)

// Config is the [aml] section of a node's configuration.
type Config struct {
	// Lists are files or folders loaded at start (relative paths are relative to the home).
	Lists []string `toml:"lists"`
	// Thresholds is the score from which a hit is reported, per use.
	Thresholds Thresholds `toml:"thresholds"`
	// Watch is how often a running node looks for a snapshot loaded by another process.
	Watch time.Duration `toml:"watch"`
}

// Thresholds per use of screening.
type Thresholds struct {
	Onboarding float64 `toml:"onboarding"`
	Payment    float64 `toml:"payment"`
	Rescreen   float64 `toml:"rescreen"`
}

// DefaultConfig returns the default configuration: no lists, the matcher's default threshold
// for onboarding and re-screening, a stricter one for payments (a false alarm stops a payment),
// and a watch every half second.
func DefaultConfig() Config {
	return Config{
		Thresholds: Thresholds{Onboarding: match.DefaultThreshold, Payment: 0.85, Rescreen: match.DefaultThreshold},
		Watch:      500 * time.Millisecond,
	}
}

// Validate checks the configuration without changing it.
func (c Config) Validate() error {
	for _, t := range []float64{c.Thresholds.Onboarding, c.Thresholds.Payment, c.Thresholds.Rescreen} {
		if t < 0.5 || t > 1 {
			return fmt.Errorf("%w: aml.thresholds must be between 0.5 and 1", ErrConfig)
		}
	}
	if c.Watch < 50*time.Millisecond || c.Watch > time.Minute {
		return fmt.Errorf("%w: aml.watch must be 50ms to 1m", ErrConfig)
	}
	return nil
}

func (c Config) threshold(use string) (float64, error) {
	switch use {
	case "", UseOnboarding:
		return c.Thresholds.Onboarding, nil
	case UsePayment:
		return c.Thresholds.Payment, nil
	case UseRescreen:
		return c.Thresholds.Rescreen, nil
	}
	return 0, fmt.Errorf("%w: use must be onboarding, payment or rescreen", ErrQuery)
}

// Subject is what screening needs to know of a KYC subject. It holds personal data: it is
// never logged.
type Subject struct {
	ID          string
	Type        list.EntityType // Person or Organisation
	Name        string
	BirthDate   list.Date
	Nationality string
}

// Format prints the subject without its personal data.
func (s Subject) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "aml.Subject{ID:%s personal data redacted}", s.ID)
}

// Subjects lists the approved subjects for re-screening. Each call is an audited read of
// personal data, made by the screening service for the reason given.
type Subjects interface {
	Approved(ctx context.Context, reason string, fn func(Subject) error) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithLogger sets the logger (discarded by default).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithSubjects sets where re-screening finds the approved subjects.
func WithSubjects(sub Subjects) Option { return func(s *Service) { s.subjects = sub } }

// SetSubjects sets where re-screening finds the approved subjects, when they come from a
// service built after this one (KYC's chain holds this service's provider). Call it while
// wiring, before Watch or Rescreen.
func (s *Service) SetSubjects(sub Subjects) { s.subjects = sub }

// Service screens against the current snapshot. It is safe for concurrent use.
type Service struct {
	cfg      Config
	store    Store
	clock    func() time.Time
	log      *slog.Logger
	subjects Subjects

	cur    atomic.Pointer[current]
	loadMu sync.Mutex // one load or refresh at a time
	// rescreened is the newest snapshot version whose re-screening this process ran or saw done.
	rescreened atomic.Int64
	// gen counts changes that can change what is known of a subject: a new snapshot, a saved
	// screening, a clearance. MonitorInfo drops its cache when it moves.
	gen atomic.Uint64
}

// current is the snapshot being screened against.
type current struct {
	snap    *Snapshot
	ix      *match.Index
	entries map[entryKey]loaded
}

type entryKey struct{ list, id string }

// loaded is an entry of the current snapshot and its hash.
type loaded struct {
	e    *list.Entity
	hash string
}

// New returns a Service over store. It screens nothing until Open or Load.
func New(cfg Config, store Store, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	s := &Service{cfg: cfg, store: store, clock: time.Now, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Open loads the newest stored snapshot, if any, and then the configured lists (resolved by
// resolve, e.g. against the home); a configured list that does not load is an error.
func (s *Service) Open(ctx context.Context, resolve func(string) string) error {
	if err := s.Refresh(ctx); err != nil && !errors.Is(err, ErrNoSnapshot) {
		return err
	}
	if len(s.cfg.Lists) == 0 {
		return nil
	}
	paths := make([]string, len(s.cfg.Lists))
	for i, p := range s.cfg.Lists {
		paths[i] = resolve(p)
	}
	_, _, err := s.Load(ctx, paths...)
	return err
}

// Snapshot returns the snapshot being screened against, or ErrNoSnapshot. Its Rescreened
// flag is as the store had it when the snapshot was installed.
func (s *Service) Snapshot() (*Snapshot, error) {
	c := s.cur.Load()
	if c == nil {
		return nil, ErrNoSnapshot
	}
	return c.snap, nil
}

// Snapshots returns the stored snapshots, newest first.
func (s *Service) Snapshots(ctx context.Context, limit int) ([]Snapshot, error) {
	return s.store.Snapshots(ctx, limit)
}

// Load reads the lists at paths (files or folders, formats recognised by content) and, when
// they differ from the newest snapshot, stores them as a new snapshot, screens against it at
// once and re-screens the approved subjects. It reports whether a new snapshot was made. A
// list that does not parse is refused and the previous snapshot stays in force.
func (s *Service) Load(ctx context.Context, paths ...string) (*Snapshot, bool, error) {
	if len(paths) == 0 {
		return nil, false, fmt.Errorf("%w: no paths", ErrLists)
	}
	sets, err := list.ReadPaths(paths...)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrLists, err)
	}
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	snap := &Snapshot{LoadedAt: s.clock().UTC()}
	var entries []Stored
	for _, set := range sets {
		snap.Lists = append(snap.Lists, ListInfo{Name: set.List, Entities: len(set.Entities), Files: baseNames(set.Files)})
		for _, e := range set.Entities {
			h, err := entryHash(&e)
			if err != nil {
				return nil, false, err
			}
			entries = append(entries, Stored{Hash: h, Entity: e})
		}
	}
	snap.EntityCount = len(entries)
	snap.Digest = digest(entries)
	prev, err := s.store.Latest(ctx)
	if err != nil && !errors.Is(err, ErrNoSnapshot) {
		return nil, false, err
	}
	if prev != nil && prev.Digest == snap.Digest {
		if err := s.refreshLocked(ctx); err != nil {
			return nil, false, err
		}
		return prev, false, nil
	}
	var old []Stored
	if prev != nil {
		if old, err = s.store.Entries(ctx, prev.Version); err != nil {
			return nil, false, err
		}
	}
	snap.Diff = diff(old, entries)
	if err := s.store.SaveSnapshot(ctx, snap, entries); err != nil {
		return nil, false, err
	}
	s.install(snap, entries)
	s.log.Info("aml: lists loaded", "version", snap.Version, "entities", snap.EntityCount)
	return snap, true, nil
}

// Refresh screens against the newest stored snapshot when it is newer than the current one
// (loaded by another process, e.g. `regledger aml load`).
func (s *Service) Refresh(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	return s.refreshLocked(ctx)
}

func (s *Service) refreshLocked(ctx context.Context) error {
	latest, err := s.store.Latest(ctx)
	if err != nil {
		return err
	}
	if c := s.cur.Load(); c != nil && c.snap.Version >= latest.Version {
		return nil
	}
	entries, err := s.store.Entries(ctx, latest.Version)
	if err != nil {
		return err
	}
	s.install(latest, entries)
	return nil
}

func (s *Service) install(snap *Snapshot, entries []Stored) {
	ents := make([]list.Entity, len(entries))
	byKey := make(map[entryKey]loaded, len(entries))
	for i, e := range entries {
		ents[i] = e.Entity
		byKey[entryKey{e.Entity.List, e.Entity.SourceID}] = loaded{e: &ents[i], hash: e.Hash}
	}
	s.cur.Store(&current{snap: snap, ix: match.NewIndex(ents), entries: byKey})
	s.gen.Add(1)
}

// Watch refreshes on the configured period and re-screens after each new snapshot, until ctx
// ends. A snapshot's re-screening runs once, in whichever process gets to it first.
func (s *Service) Watch(ctx context.Context) {
	t := time.NewTicker(s.cfg.Watch)
	defer t.Stop()
	for {
		if err := s.Refresh(ctx); err != nil && !errors.Is(err, ErrNoSnapshot) && ctx.Err() == nil {
			s.log.Warn("aml: refresh", "err", err)
		}
		if _, err := s.RescreenPending(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("aml: re-screening", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Request is a screening request, as the API takes it.
type Request struct {
	Name        string          `json:"name"`
	BirthDate   string          `json:"birth_date,omitempty"` // YYYY, YYYY-MM or YYYY-MM-DD
	Nationality string          `json:"nationality,omitempty"`
	Gender      string          `json:"gender,omitempty"`
	Type        list.EntityType `json:"type,omitempty"`
	Use         string          `json:"use,omitempty"`
}

// Hit is a screening hit as the API returns it.
type Hit struct {
	List        string            `json:"list"`
	SourceID    string            `json:"source_id"`
	Name        string            `json:"name"`
	NameKind    list.NameKind     `json:"name_kind"`
	Type        list.EntityType   `json:"type"`
	Programmes  []string          `json:"programmes,omitempty"`
	Score       float64           `json:"score"`
	Explanation match.Explanation `json:"explanation"`
	EntryHash   string            `json:"entry_hash"`
}

// Screen screens a request against the current snapshot, with the threshold of its use.
func (s *Service) Screen(_ context.Context, r Request) ([]Hit, int64, error) {
	c := s.cur.Load()
	if c == nil {
		return nil, 0, ErrNoSnapshot
	}
	q, err := s.query(r)
	if err != nil {
		return nil, 0, err
	}
	hits, err := c.screen(q)
	return hits, c.snap.Version, err
}

func (s *Service) query(r Request) (match.Query, error) {
	th, err := s.cfg.threshold(r.Use)
	if err != nil {
		return match.Query{}, err
	}
	q := match.Query{Name: r.Name, Threshold: th, Nationality: strings.ToLower(r.Nationality), Type: r.Type}
	if strings.TrimSpace(r.Name) == "" {
		return q, fmt.Errorf("%w: a name is required", ErrQuery)
	}
	if len(r.Name) > match.MaxNameBytes {
		return q, fmt.Errorf("%w: the name is longer than %d bytes", ErrQuery, match.MaxNameBytes)
	}
	if r.BirthDate != "" {
		d, err := match.ParseDate(r.BirthDate)
		if err != nil {
			return q, fmt.Errorf("%w: birth_date must be YYYY, YYYY-MM or YYYY-MM-DD", ErrQuery)
		}
		q.BirthDate = d
	}
	if r.Nationality != "" && len(r.Nationality) != 2 {
		return q, fmt.Errorf("%w: nationality must be an ISO 3166 alpha-2 code", ErrQuery)
	}
	switch r.Gender {
	case "", "male", "female":
		q.Gender = r.Gender
	default:
		return q, fmt.Errorf("%w: gender must be male or female", ErrQuery)
	}
	switch r.Type {
	case list.Unknown, list.Person, list.Organisation, list.Vessel, list.Aircraft:
	default:
		return q, fmt.Errorf("%w: type must be person, organisation, vessel or aircraft", ErrQuery)
	}
	return q, nil
}

func (c *current) screen(q match.Query) ([]Hit, error) {
	found, err := c.ix.Screen(q)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQuery, err) // a name with no letters, say
	}
	out := make([]Hit, 0, len(found))
	for _, h := range found {
		e := h.Entity
		out = append(out, Hit{List: e.List, SourceID: e.SourceID, Name: h.Name, NameKind: h.NameKind, Type: e.Type,
			Programmes: e.Programmes, Score: h.Score, Explanation: h.Explanation, EntryHash: c.entries[entryKey{e.List, e.SourceID}].hash})
	}
	return out, nil
}

// ScreenSubject screens a KYC subject for use, leaving out hits an analyst cleared (while the
// entry is unchanged and the clearance has not expired), and stores the remaining hits as the
// subject's standing hits. It returns those hits and the alerts it raised: with raise, a hit
// that is new for the subject, or whose entry changed, is an alert.
func (s *Service) ScreenSubject(ctx context.Context, sub Subject, use string, raise bool) ([]Hit, []Alert, error) {
	c := s.cur.Load()
	if c == nil {
		return nil, nil, ErrNoSnapshot
	}
	q, err := s.query(Request{Name: sub.Name, Nationality: sub.Nationality, Type: sub.Type, Use: use})
	if err != nil {
		return nil, nil, err
	}
	q.BirthDate = sub.BirthDate
	hits, err := c.screen(q)
	if err != nil {
		return nil, nil, err
	}
	cleared, err := s.store.Clearances(ctx, sub.ID)
	if err != nil {
		return nil, nil, err
	}
	prior, err := s.store.Results(ctx, sub.ID)
	if err != nil {
		return nil, nil, err
	}
	now := s.clock().UTC()
	hits = slices.DeleteFunc(hits, func(h Hit) bool { return isCleared(cleared, h.List, h.SourceID, h.EntryHash, now) })
	results := make([]Result, 0, len(hits))
	var alerts []Alert
	for _, h := range hits {
		results = append(results, Result{Subject: sub.ID, List: h.List, SourceID: h.SourceID, EntityHash: h.EntryHash,
			Score: h.Score, Snapshot: c.snap.Version, At: now})
		if !raise {
			continue
		}
		why := "new hit"
		if i := slices.IndexFunc(prior, func(r Result) bool { return r.List == h.List && r.SourceID == h.SourceID }); i >= 0 {
			if prior[i].EntityHash == h.EntryHash {
				continue
			}
			why = "changed entry"
		}
		alerts = append(alerts, Alert{Subject: sub.ID, List: h.List, SourceID: h.SourceID, EntityHash: h.EntryHash,
			Score: h.Score, Why: why, Explanation: h.Explanation.Summary, Snapshot: c.snap.Version, At: now})
	}
	if err := s.store.SaveScreening(ctx, sub.ID, results, alerts); err != nil {
		return nil, nil, err
	}
	s.gen.Add(1)
	return hits, alerts, nil
}

// RescreenPending re-screens every approved subject against the current snapshot if that
// snapshot has not been re-screened yet. It returns the alerts raised.
func (s *Service) RescreenPending(ctx context.Context) ([]Alert, error) {
	c := s.cur.Load()
	if c == nil || s.subjects == nil || c.snap.Rescreened || c.snap.Version <= s.rescreened.Load() {
		return nil, nil
	}
	mine, err := s.store.MarkRescreened(ctx, c.snap.Version)
	if err != nil {
		return nil, err
	}
	s.rescreened.Store(c.snap.Version)
	if !mine {
		return nil, nil // another process ran it
	}
	return s.Rescreen(ctx)
}

// Rescreen screens every approved subject against the current snapshot and returns the
// alerts raised: only new hits and hits on changed entries alert.
func (s *Service) Rescreen(ctx context.Context) ([]Alert, error) {
	if s.subjects == nil {
		return nil, nil
	}
	var all []Alert
	err := s.subjects.Approved(ctx, "aml re-screening", func(sub Subject) error {
		_, alerts, err := s.ScreenSubject(ctx, sub, UseRescreen, true)
		all = append(all, alerts...)
		return err
	})
	if err != nil {
		return all, fmt.Errorf("aml: re-screening: %w", err)
	}
	if len(all) > 0 {
		s.log.Info("aml: re-screening raised alerts", "alerts", len(all))
	}
	return all, nil
}

// ClearRequest is an analyst's clearance of one hit, as the API takes it.
type ClearRequest struct {
	Subject  string    `json:"subject"`
	List     string    `json:"list"`
	SourceID string    `json:"source_id"`
	Reason   string    `json:"reason"`
	Expires  time.Time `json:"expires,omitzero"`
}

// MaxReason bounds a clearance's reason.
const MaxReason = 2000

// Clear records that the subject's standing hit on the entry is a false positive. The hit
// must exist; the clearance holds while the entry stays as it is now.
func (s *Service) Clear(ctx context.Context, r ClearRequest, actor string) (*Clearance, error) {
	if strings.TrimSpace(r.Subject) == "" || strings.TrimSpace(r.List) == "" || strings.TrimSpace(r.SourceID) == "" {
		return nil, fmt.Errorf("%w: subject, list and source_id are required", ErrClearance)
	}
	if strings.TrimSpace(r.Reason) == "" || len(r.Reason) > MaxReason {
		return nil, fmt.Errorf("%w: a reason of at most %d bytes is required", ErrClearance, MaxReason)
	}
	now := s.clock().UTC()
	if !r.Expires.IsZero() && !r.Expires.After(now) {
		return nil, fmt.Errorf("%w: the expiry is in the past", ErrClearance)
	}
	results, err := s.store.Results(ctx, r.Subject)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(results, func(x Result) bool { return x.List == r.List && x.SourceID == r.SourceID })
	if i < 0 {
		return nil, ErrUnknownHit
	}
	c := &Clearance{Subject: r.Subject, List: r.List, SourceID: r.SourceID, EntityHash: results[i].EntityHash,
		Reason: r.Reason, Actor: actor, At: now, Expires: r.Expires.UTC()}
	ev := audit.Event{At: now, Actor: actor, Action: "aml.clear", Object: r.Subject,
		Detail: map[string]string{"list": r.List, "source_id": r.SourceID, "entry_hash": c.EntityHash}}
	if err := s.store.AddClearance(ctx, c, ev); err != nil {
		return nil, err
	}
	s.gen.Add(1)
	return c, nil
}

// Alerts returns screening alerts after an id, oldest first.
func (s *Service) Alerts(ctx context.Context, after int64, limit int) ([]Alert, error) {
	return s.store.Alerts(ctx, after, limit)
}

func baseNames(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f[strings.LastIndexAny(f, `/\`)+1:]
	}
	return out
}

// entryHash is the SM3 hash of an entry's canonical JSON (struct fields in a fixed order).
func entryHash(e *list.Entity) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("aml: hash entry: %w", err)
	}
	h := sm3.Sum(b)
	return hex.EncodeToString(h[:]), nil
}

func digest(entries []Stored) string {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Entity.List + "\x00" + e.Entity.SourceID + "\x00" + e.Hash
	}
	sort.Strings(keys)
	h := sm3.New()
	for _, k := range keys {
		_, _ = io.WriteString(h, k)
		_, _ = h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// diff compares two snapshots' entries list by list.
func diff(old, cur []Stored) []ListDiff {
	before := map[entryKey]string{}
	for _, e := range old {
		before[entryKey{e.Entity.List, e.Entity.SourceID}] = e.Hash
	}
	byList := map[string]*ListDiff{}
	get := func(l string) *ListDiff {
		d, ok := byList[l]
		if !ok {
			d = &ListDiff{List: l}
			byList[l] = d
		}
		return d
	}
	seen := map[entryKey]bool{}
	for _, e := range cur {
		k := entryKey{e.Entity.List, e.Entity.SourceID}
		seen[k] = true
		h, ok := before[k]
		switch {
		case !ok:
			get(k.list).Added = append(get(k.list).Added, k.id)
		case h != e.Hash:
			get(k.list).Changed = append(get(k.list).Changed, k.id)
		}
	}
	for _, e := range old {
		k := entryKey{e.Entity.List, e.Entity.SourceID}
		if !seen[k] {
			get(k.list).Removed = append(get(k.list).Removed, k.id)
		}
	}
	out := make([]ListDiff, 0, len(byList))
	for _, d := range byList {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].List < out[j].List })
	return out
}
