package ledger

import (
	"time"

	"github.com/regledger/regledger/keys"
)

func (c *execCtx) identityAttest(p *IdentityAttest) {
	by, _ := c.roleSigner(RoleAttester, "CA attester")
	sc, err := keys.ParseScript(p.Script)
	switch {
	case err != nil:
		c.violate(ruleFormat, "", CodeInvalid, "verification script: %v", err)
	case sc.Address() != p.Address:
		c.violate(ruleFormat, "", CodeInvalid, "address %s does not match the script's address %s", p.Address, sc.Address())
	case len(sc.Keys) != 1:
		c.violate(ruleFormat, "", CodeInvalid, "multi-signature identities are not enabled on this chain yet")
	}
	if len(p.CertSerial) == 0 || p.CertFingerprint.IsZero() {
		c.violate(ruleFormat, "", CodeInvalid, "certificate serial and SM3 fingerprint are required")
	}
	if p.Commitment.IsZero() {
		c.violate(ruleFormat, "", CodeInvalid, "identity commitment is required")
	}
	if !p.Expiry.After(c.now) {
		c.violate(ruleFormat, "", CodeInvalid, "expiry %s is not after the block time", formatTime(p.Expiry))
	}
	if c.role(p.Address) != nil {
		c.violate(ruleFormat, "", CodeInvalid, "%s is a genesis role key and cannot be an identity", p.Address)
	}
	old := c.identity(p.Address)
	if old != nil {
		switch {
		case old.Revoked():
			c.violate(ruleIdent, "", CodeIdentity, "identity %s was revoked; a new key needs a new attestation", p.Address)
		case old.Commitment != p.Commitment || old.Kind != p.Kind:
			c.violate(ruleIdent, "", CodeInvalid, "identity %s is attested to another subject", p.Address)
		}
	}
	if !c.proceed() {
		return
	}
	id := &Identity{
		Address: p.Address, Script: p.Script, CertSerial: p.CertSerial, CertFingerprint: p.CertFingerprint,
		Kind: p.Kind, KYCLevel: p.KYCLevel, PRCDomicile: p.PRCDomicile, Expiry: p.Expiry,
		Commitment: p.Commitment, AttestedAt: c.now, AttestedBy: by,
	}
	c.save(kIdentity(p.Address), id)
	c.st.set(kCommitment(p.Commitment, p.Address), nil)
	renewal := "false"
	if old != nil {
		renewal = "true"
	}
	c.emit(TypeIdentityAttest.String(), "address", p.Address.String(), "commitment", p.Commitment.String(),
		"kind", p.Kind.String(), "kyc_level", itoa(uint64(p.KYCLevel)), "cert_serial", hexs(p.CertSerial),
		"cert_fingerprint", p.CertFingerprint.String(), "expiry", p.Expiry.UTC().Format(timeLayout),
		"renewal", renewal, "attester", by.String())
}

func (c *execCtx) identityRevoke(p *IdentityRevoke) {
	by, _ := c.roleSigner(RoleAttester, "CA attester")
	id := c.identity(p.Address)
	switch {
	case id == nil:
		c.violate(ruleIdent, "", CodeNotFound, "no identity %s", p.Address)
		return
	case id.Revoked() && (id.RevokeReason != RevokeHold || p.Reason == RevokeHold):
		c.violate(ruleIdent, "", CodeInvalid, "identity %s is already revoked", p.Address) // a hold may become final
	}
	if !c.proceed() {
		return
	}
	id.RevokedAt, id.RevokeReason = c.now, p.Reason
	c.save(kIdentity(p.Address), id)
	c.emit(TypeIdentityRevoke.String(), "address", p.Address.String(), "commitment", id.Commitment.String(),
		"reason", p.Reason.String(), "attester", by.String())
}

func (c *execCtx) identityRelease(p *IdentityRelease) {
	by, _ := c.roleSigner(RoleAttester, "CA attester")
	id := c.identity(p.Address)
	switch {
	case id == nil:
		c.violate(ruleIdent, "", CodeNotFound, "no identity %s", p.Address)
		return
	case !id.Revoked() || id.RevokeReason != RevokeHold:
		c.violate(ruleIdent, "", CodeInvalid, "identity %s is not on hold; only a hold can be released", p.Address)
	}
	if !c.proceed() {
		return
	}
	id.RevokedAt, id.RevokeReason = time.Time{}, 0
	c.save(kIdentity(p.Address), id)
	c.emit(TypeIdentityRelease.String(), "address", p.Address.String(), "commitment", id.Commitment.String(), "attester", by.String())
}
