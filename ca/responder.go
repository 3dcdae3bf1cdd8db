package ca

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/regledger/regledger/ca/ocsp"
)

// OCSP answers a DER OCSP request (RFC 6960) and returns the DER response: signed by the
// issuing CA's OCSP signer, the nonce echoed, each certificate good, revoked (with its time and
// reason; a hold is certificateHold) or unknown. Requests naming several issuing CAs, or none of
// ours, get "unauthorized"; malformed ones "malformedRequest".
func (a *Authority) OCSP(ctx context.Context, der []byte) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return ocsp.ErrorResponse(ocsp.MalformedRequest)
	}
	var h *Hierarchy
	for _, id := range req.IDs {
		var match *Hierarchy
		for _, c := range a.hier {
			if id.MatchesIssuer(c.Issuer) {
				match = c
			}
		}
		if match == nil || (h != nil && h != match) {
			return ocsp.ErrorResponse(ocsp.Unauthorized)
		}
		h = match
	}
	now := a.now().UTC().Truncate(1e9)
	singles := make([]ocsp.SingleResponse, len(req.IDs))
	for i, id := range req.IDs {
		s := ocsp.SingleResponse{ID: id, Status: ocsp.Unknown, ThisUpdate: now, NextUpdate: now.Add(a.cfg.OCSPValidity)}
		c, err := a.store.Certificate(ctx, SerialHex(id.Serial))
		switch {
		case errors.Is(err, ErrNotFound), err == nil && c.Algo != h.Algo:
		case err != nil:
			a.log.Error("ocsp: read certificate", "err", err)
			return ocsp.ErrorResponse(ocsp.TryLater)
		case c.Status.Revoked():
			s.Status, s.RevokedAt, s.Reason, s.HasReason = ocsp.Revoked, c.RevokedAt.UTC().Truncate(1e9), c.Reason.CRLCode(), true
		default:
			s.Status = ocsp.Good
		}
		singles[i] = s
	}
	r := &ocsp.Responder{Cert: h.OCSP, Signer: h.ocspKey.Signer()}
	out, err := r.Respond(rand.Reader, singles, req.Nonce, now)
	if err != nil {
		a.log.Error("ocsp: sign response", "err", err)
		return ocsp.ErrorResponse(ocsp.InternalError)
	}
	return out
}
