package kyc

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// identityTag domain-separates the commitment and blind-index input. Changing anything in
// identityInput changes every commitment on the ledger: it is a consortium-wide format.
const identityTag = "regledger-id-v1\x00"

// identityInput is the input of the commitment and of the blind index:
//
//	"regledger-id-v1\x00" ‖ id type ‖ "\x00" ‖ scope ‖ "\x00" ‖ normalised number
//
// where scope is the issuing country for passports and empty otherwise (see document.scope).
// Organisations and regulators are identified by their normalised USCC (id type "uscc").
func identityInput(d document) []byte {
	b := make([]byte, 0, len(identityTag)+len(d.Type)+len(d.Number)+8)
	b = append(b, identityTag...)
	b = append(b, d.Type...)
	b = append(b, 0)
	b = append(b, d.scope()...)
	b = append(b, 0)
	b = append(b, d.Number...)
	return b
}

// hmacSM3 is HMAC-SM3 of msg under key.
func hmacSM3(key, msg []byte) [32]byte {
	m := hmac.New(sm3.New, key)
	m.Write(msg)
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// commitment is the identity commitment of d under the consortium's commitment key.
func (s *Secrets) commitment(d document) [32]byte {
	return hmacSM3(s.CommitmentKey[:], identityInput(d))
}

// blindIndex is the duplicate-detection index of d under the node's index key.
func (s *Secrets) blindIndex(d document) [32]byte { return hmacSM3(s.IndexKey[:], identityInput(d)) }

// pii is the personal data of a subject, sealed as JSON.
type pii struct {
	Name        string            `json:"name"`
	IDNumber    string            `json:"id_number"`
	Nationality string            `json:"nationality,omitempty"`
	BirthDate   string            `json:"birth_date,omitempty"`
	Contact     string            `json:"contact,omitempty"`
	IDExpiry    string            `json:"id_expiry,omitempty"`
	LegalRep    string            `json:"legal_representative,omitempty"`
	Owners      []BeneficialOwner `json:"beneficial_owners,omitempty"`
	Risk        string            `json:"risk,omitempty"`
}

// Layout of sealed personal data: version byte ‖ 12-byte nonce ‖ SM4-GCM ciphertext and tag.
// The additional data is the version byte and the subject id, so a sealed blob moved to another
// row does not open.
const (
	piiVersion1  = 1
	piiNonceSize = 12
	piiTagSize   = 16
)

func (s *Secrets) piiAEAD() (cipher.AEAD, error) {
	block, err := sm4.NewCipher(s.DataKey[:])
	if err != nil {
		return nil, fmt.Errorf("kyc: data cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kyc: data cipher: %w", err)
	}
	return aead, nil
}

func piiAD(id string) []byte { return append([]byte{piiVersion1}, id...) }

// sealPII encrypts p for the subject id under the data key.
func (s *Secrets) sealPII(id string, p pii) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("kyc: seal personal data: %w", err)
	}
	defer clear(plain)
	aead, err := s.piiAEAD()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+piiNonceSize, 1+piiNonceSize+len(plain)+piiTagSize)
	out[0] = piiVersion1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("kyc: seal personal data: %w", err)
	}
	return aead.Seal(out, out[1:], plain, piiAD(id)), nil
}

// openPII decrypts what sealPII sealed for the same subject id. Every failure is ErrDecrypt.
func (s *Secrets) openPII(id string, sealed []byte) (pii, error) {
	if len(sealed) < 1+piiNonceSize+piiTagSize || sealed[0] != piiVersion1 {
		return pii{}, fmt.Errorf("%w: subject %s: malformed sealed data", ErrDecrypt, id)
	}
	aead, err := s.piiAEAD()
	if err != nil {
		return pii{}, err
	}
	plain, err := aead.Open(nil, sealed[1:1+piiNonceSize], sealed[1+piiNonceSize:], piiAD(id))
	if err != nil {
		return pii{}, fmt.Errorf("%w: subject %s: wrong data key or altered record", ErrDecrypt, id)
	}
	defer clear(plain)
	var p pii
	if err := json.Unmarshal(plain, &p); err != nil {
		// The JSON error could quote the plaintext; it is not passed on.
		return pii{}, fmt.Errorf("%w: subject %s: sealed data is not a personal-data record", ErrDecrypt, id)
	}
	return p, nil
}
