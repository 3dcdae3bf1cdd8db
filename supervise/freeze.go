package supervise

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

// FreezeRequest freezes a holding (Holder set) or a whole company.
type FreezeRequest struct {
	Company string `json:"company"`
	Holder  string `json:"holder"`
	Basis   string `json:"basis"`
}

// UnfreezeRequest lifts a freeze order.
type UnfreezeRequest struct {
	Freeze string `json:"freeze"`
	Basis  string `json:"basis"`
}

// OrderResult is what became of a freeze or unfreeze order posted to the ledger.
type OrderResult struct {
	TxID   string `json:"tx_id"`
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Code   uint32 `json:"code"`
	Log    string `json:"log"`
	// Pending is true when the order did not commit within the wait (it may still).
	Pending bool `json:"pending"`
}

// RefusedError is a freeze or unfreeze the ledger refused, with its reasons.
type RefusedError struct {
	Result OrderResult
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("supervise: the ledger refused the order (code %d): %s", e.Result.Code, e.Result.Log)
}

// Unwrap makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// orderTTL is how long a signed order stays valid for inclusion.
const orderTTL = 10 * time.Minute

// Freeze signs a freeze order with the regulator institution's key, posts it and waits for the
// commit. From that block on the ledger refuses every change to the holding or company with the
// order as its reason. The order and its outcome are in the audit log.
func (s *Service) Freeze(ctx context.Context, actor string, r FreezeRequest) (*OrderResult, error) {
	uscc := strings.ToUpper(strings.TrimSpace(r.Company))
	if uscc == "" {
		return nil, fmt.Errorf("%w: company (USCC) is required", ErrInvalid)
	}
	basis, err := text("basis", r.Basis, 5, 256)
	if err != nil {
		return nil, err
	}
	p := &ledger.Freeze{USCC: uscc, Basis: basis}
	if h := strings.TrimSpace(r.Holder); h != "" {
		if p.Holder, err = keys.ParseAddress(h); err != nil {
			return nil, fmt.Errorf("%w: holder: %v", ErrInvalid, err)
		}
	}
	detail := map[string]string{"company": uscc, "basis": basis}
	if !p.Holder.IsZero() {
		detail["holder"] = p.Holder.String()
	}
	return s.order(ctx, actor, "supervise.freeze", p, detail)
}

// Unfreeze lifts a freeze order of the regulator.
func (s *Service) Unfreeze(ctx context.Context, actor string, r UnfreezeRequest) (*OrderResult, error) {
	id, err := ledger.ParseHash(strings.ToLower(strings.TrimSpace(r.Freeze)))
	if err != nil {
		return nil, fmt.Errorf("%w: freeze must be the order's id (64 hex digits)", ErrInvalid)
	}
	basis, err := text("basis", r.Basis, 5, 256)
	if err != nil {
		return nil, err
	}
	return s.order(ctx, actor, "supervise.unfreeze", &ledger.Unfreeze{Freeze: id, Basis: basis},
		map[string]string{"freeze": id.String(), "basis": basis})
}

func (s *Service) order(ctx context.Context, actor, action string, p ledger.Payload, detail map[string]string) (*OrderResult, error) {
	if s.key == nil || s.submitter == nil {
		return nil, fmt.Errorf("%w: this node holds no regulator key", ErrUnavailable)
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	tx := ledger.NewTx(s.cfg.ChainID, nonce, s.now().Add(orderTTL), p)
	if err := tx.Sign(s.key); err != nil {
		return nil, fmt.Errorf("supervise: sign the order: %w", err)
	}
	res := &OrderResult{TxID: tx.ID().String()}
	posted, err := s.submitter.Submit(ctx, tx.Encode())
	if err != nil {
		return nil, fmt.Errorf("supervise: post the order: %w", err)
	}
	res.Hash, res.Height, res.Code, res.Log, res.Pending = posted.Hash, posted.Height, uint32(posted.Code), posted.Log, !posted.Committed
	detail["tx_id"], detail["code"] = res.TxID, fmt.Sprint(res.Code)
	if res.Height > 0 {
		detail["height"] = fmt.Sprint(res.Height)
	}
	if err := s.store.Audit(ctx, audit.Event{At: s.now().UTC(), Actor: actor, Action: action, Object: res.TxID, Detail: detail}); err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return res, &RefusedError{Result: *res}
	}
	return res, nil
}

// FreezeView is a freeze order as the console lists it.
type FreezeView struct {
	ID        string    `json:"id"`
	Company   string    `json:"company"`
	Holder    string    `json:"holder,omitempty"`
	Authority string    `json:"authority"`
	By        string    `json:"by"`
	Basis     string    `json:"basis"`
	At        time.Time `json:"at"`
	Active    bool      `json:"active"`
}

// Freezes lists the freeze orders in force on a company and its holdings.
func (s *Service) Freezes(ctx context.Context, uscc string) ([]FreezeView, error) {
	if s.ledger == nil {
		return nil, fmt.Errorf("%w: no ledger", ErrUnavailable)
	}
	uscc = strings.ToUpper(strings.TrimSpace(uscc))
	if uscc == "" {
		return nil, fmt.Errorf("%w: company (USCC) is required", ErrInvalid)
	}
	fs, err := ledger.ActiveFreezes(s.ledger, uscc)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("%w: no company %s", ErrNotFound, uscc)
	}
	if err != nil {
		return nil, err
	}
	out := make([]FreezeView, 0, len(fs))
	for _, f := range fs {
		v := FreezeView{ID: f.ID.String(), Company: f.USCC, Authority: f.Authority.String(), By: f.By.String(), Basis: f.Basis,
			At: f.At, Active: f.LiftedAt.IsZero()}
		if !f.Holder.IsZero() {
			v.Holder = f.Holder.String()
		}
		out = append(out, v)
	}
	return out, nil
}
