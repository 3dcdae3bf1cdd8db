package ca

import (
	"fmt"
	"strings"

	"github.com/regledger/regledger/ca/ocsp"
	"github.com/regledger/regledger/ledger"
)

// Reason is why a certificate is revoked: an RFC 5280 CRLReason the operator may give, or one
// the CA derives (KYC withdrawn, the holder's death, an organisation's dissolution), each
// mapped to the CRL/OCSP reason code and to the ledger's revocation reason.
type Reason string

// Revocation reasons.
const (
	ReasonKeyCompromise      Reason = "keyCompromise"
	ReasonAffiliationChanged Reason = "affiliationChanged"
	ReasonSuperseded         Reason = "superseded"
	ReasonCessation          Reason = "cessationOfOperation"
	ReasonHold               Reason = "certificateHold"
	ReasonKYCWithdrawn       Reason = "privilegeWithdrawn" // the subject's KYC approval was withdrawn
	ReasonDeath              Reason = "death"              // a person died (the ledger then allows succession)
	ReasonDissolution        Reason = "dissolution"        // an organisation was dissolved
	// ReasonAttestationRefused marks a certificate whose ledger attestation was refused: it never
	// became usable and is listed as revoked.
	ReasonAttestationRefused Reason = "attestationRefused"
)

var reasons = map[Reason]struct {
	crl    ocsp.RevocationReason
	ledger ledger.RevokeReason
}{
	ReasonKeyCompromise:      {ocsp.KeyCompromise, ledger.RevokeKeyCompromise},
	ReasonAffiliationChanged: {ocsp.AffiliationChanged, ledger.RevokeAffiliationChanged},
	ReasonSuperseded:         {ocsp.Superseded, ledger.RevokeSuperseded},
	ReasonCessation:          {ocsp.CessationOfOperation, ledger.RevokeCessation},
	ReasonHold:               {ocsp.CertificateHold, ledger.RevokeHold},
	ReasonKYCWithdrawn:       {ocsp.PrivilegeWithdrawn, ledger.RevokeKYCWithdrawn},
	ReasonDeath:              {ocsp.CessationOfOperation, ledger.RevokeDeath},
	ReasonDissolution:        {ocsp.CessationOfOperation, ledger.RevokeDissolution},
	ReasonAttestationRefused: {ocsp.CessationOfOperation, 0},
}

// OperatorReasons are the reasons an operator may give.
var OperatorReasons = []Reason{ReasonKeyCompromise, ReasonAffiliationChanged, ReasonSuperseded, ReasonCessation,
	ReasonHold, ReasonKYCWithdrawn, ReasonDeath, ReasonDissolution}

// ParseReason parses a reason by its RFC 5280 name (keyCompromise, certificateHold, …), case
// insensitively, with "hold" accepted for certificateHold.
func ParseReason(s string) (Reason, error) {
	if strings.EqualFold(s, "hold") {
		return ReasonHold, nil
	}
	for _, r := range OperatorReasons {
		if strings.EqualFold(string(r), s) {
			return r, nil
		}
	}
	names := make([]string, len(OperatorReasons))
	for i, r := range OperatorReasons {
		names[i] = string(r)
	}
	return "", fmt.Errorf("%w: unknown revocation reason %q; one of %s", ErrMalformed, s, strings.Join(names, ", "))
}

// CRLCode is the reason's RFC 5280 CRLReason code.
func (r Reason) CRLCode() ocsp.RevocationReason { return reasons[r].crl }

// LedgerReason is the reason the ledger records.
func (r Reason) LedgerReason() ledger.RevokeReason { return reasons[r].ledger }
