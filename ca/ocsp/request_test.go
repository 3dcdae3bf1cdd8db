package ocsp

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestCreateParseRequestRoundTrip(t *testing.T) {
	sm := newPKI(t, algSM2, "regledger test SM2 CA", testNow)
	ec := newPKI(t, algP256, "regledger test P-256 CA", testNow)
	negative := sm.leafID(t, SHA1)
	negative.Serial = big.NewInt(-129) // non-conforming but seen in the wild; must survive
	tests := []struct {
		name  string
		ids   []CertID
		nonce []byte
	}{
		{"SM2 sha1 no nonce", []CertID{sm.leafID(t, SHA1)}, nil},
		{"SM2 sm3 with nonce", []CertID{sm.leafID(t, SM3)}, []byte("0123456789abcdef")},
		{"P-256 sha256 with nonce", []CertID{ec.leafID(t, SHA256)}, []byte{0}},
		{"mixed ids, 128-byte nonce", []CertID{sm.leafID(t, SHA1), ec.leafID(t, SHA256), sm.leafID(t, SM3)}, bytes.Repeat([]byte{0xab}, MaxNonceSize)},
		{"negative serial", []CertID{negative}, nil},
		{"maximum ids", repeatID(ec.leafID(t, SHA1), MaxIDs), []byte{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := CreateRequest(tt.ids, tt.nonce)
			if err != nil {
				t.Fatalf("CreateRequest: %v", err)
			}
			req, err := ParseRequest(der)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(req.IDs) != len(tt.ids) {
				t.Fatalf("got %d ids, want %d", len(req.IDs), len(tt.ids))
			}
			for i := range tt.ids {
				if !req.IDs[i].Equal(tt.ids[i]) {
					t.Errorf("id %d differs after the round trip", i)
				}
			}
			if !bytes.Equal(req.Nonce, tt.nonce) || (tt.nonce == nil) != (req.Nonce == nil) {
				t.Errorf("nonce = %x, want %x", req.Nonce, tt.nonce)
			}
			if !bytes.Equal(req.Raw, der) || req.Signed {
				t.Errorf("Raw or Signed wrong")
			}
		})
	}
}

func repeatID(id CertID, n int) []CertID {
	out := make([]CertID, n)
	for i := range out {
		out[i] = id
		out[i].Serial = big.NewInt(int64(i + 1))
	}
	return out
}

func TestCreateRequestRejects(t *testing.T) {
	p := newPKI(t, algP256, "regledger test CA", testNow)
	good := p.leafID(t, SHA1)
	shortHash := good
	shortHash.IssuerKeyHash = shortHash.IssuerKeyHash[:19]
	noSerial := good
	noSerial.Serial = nil
	badAlg := good
	badAlg.Hash = 0
	tests := []struct {
		name  string
		ids   []CertID
		nonce []byte
		want  error
	}{
		{"no ids", nil, nil, ErrInvalidArgument},
		{"too many ids", repeatID(good, MaxIDs+1), nil, ErrTooLarge},
		{"nonce too long", []CertID{good}, make([]byte, MaxNonceSize+1), ErrTooLarge},
		{"hash of the wrong size", []CertID{shortHash}, nil, ErrInvalidArgument},
		{"nil serial", []CertID{noSerial}, nil, ErrInvalidArgument},
		{"unknown hash", []CertID{badAlg}, nil, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := CreateRequest(tt.ids, tt.nonce); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// goldenID is a fixed CertID so that CreateRequest's output can be compared byte
// for byte with testdata/request-sha1-nonce.der.
func goldenID() CertID {
	return CertID{
		Hash:           SHA1,
		IssuerNameHash: bytes.Repeat([]byte{0x11}, 20),
		IssuerKeyHash:  bytes.Repeat([]byte{0x22}, 20),
		Serial:         new(big.Int).SetBytes([]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}),
	}
}

var goldenNonce = []byte("regledger-nonce!")

func TestCreateRequestGolden(t *testing.T) {
	der, err := CreateRequest([]CertID{goldenID()}, goldenNonce)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "request-sha1-nonce.der")
	if *update {
		if err := os.WriteFile(path, der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(der, want) {
		t.Fatalf("CreateRequest output differs from %s:\n got %x\nwant %x", path, der, want)
	}
}

func TestParseRequestVariants(t *testing.T) {
	p := newPKI(t, algSM2, "regledger test CA", testNow)
	id := p.leafID(t, SHA1)
	single := seq(t, certIDDER(t, id))
	nonce := []byte("nonce-1234")
	tests := []struct {
		name      string
		der       []byte
		wantNonce []byte
		signed    bool
	}{
		{"explicit v1 version", requestDER(t, [][]byte{tagged(t, tagExplicit0, intDER(t, 0))}, [][]byte{single}), nil, false},
		{"requestorName", requestDER(t, [][]byte{tagged(t, tagExplicit1, tagged(t, cbasn1.Tag(4).ContextSpecific().Constructed(), seq(t)))}, [][]byte{single}), nil, false},
		{"unknown non-critical extension beside the nonce", requestDER(t, nil, [][]byte{single},
			tagged(t, tagExplicit2, seq(t, extDER(t, asn1.ObjectIdentifier{1, 2, 3, 4}, false, []byte{5, 0}), nonceExt(t, nonce)))), nonce, false},
		{"critical nonce", requestDER(t, nil, [][]byte{single},
			tagged(t, tagExplicit2, seq(t, extDER(t, oidOCSPNonce, true, octets(t, nonce))))), nonce, false},
		{"non-critical single request extension", requestDER(t, nil, [][]byte{seq(t, certIDDER(t, id),
			tagged(t, tagExplicit0, seq(t, extDER(t, asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 7}, false, seq(t)))))}), nil, false},
		{"hash parameters absent", requestDER(t, nil, [][]byte{seq(t, seq(t, seq(t, oidDER(t, oidSHA1)),
			octets(t, id.IssuerNameHash), octets(t, id.IssuerKeyHash), intDERBig(t, id.Serial)))}), nil, false},
		{"signed request with certs", seq(t, seq(t, seq(t, single)),
			tagged(t, tagExplicit0, seq(t, sigAlgDER(t, algSM2), tagged(t, cbasn1.BIT_STRING, []byte{0, 1, 2, 3}),
				tagged(t, tagExplicit0, seq(t, p.leaf.Raw))))), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest(tt.der)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(req.IDs) != 1 || !req.IDs[0].Equal(id) {
				t.Fatalf("ids = %+v", req.IDs)
			}
			if !bytes.Equal(req.Nonce, tt.wantNonce) || req.Signed != tt.signed {
				t.Fatalf("nonce = %x signed = %v, want %x %v", req.Nonce, req.Signed, tt.wantNonce, tt.signed)
			}
		})
	}
}

func intDERBig(t testing.TB, n *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseRequestRejects(t *testing.T) {
	p := newPKI(t, algP256, "regledger test CA", testNow)
	id := p.leafID(t, SHA1)
	single := seq(t, certIDDER(t, id))
	valid := requestDER(t, nil, [][]byte{single})
	if _, err := ParseRequest(valid); err != nil {
		t.Fatalf("baseline request does not parse: %v", err)
	}
	reqExts := func(exts ...[]byte) []byte {
		return requestDER(t, nil, [][]byte{single}, tagged(t, tagExplicit2, seq(t, exts...)))
	}
	manyIDs := make([][]byte, MaxIDs+1)
	for i := range manyIDs {
		manyIDs[i] = single
	}
	md5 := asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	nonMinimal := append([]byte{0x30, 0x81, byte(len(valid) - 2)}, valid[2:]...)
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"empty input", nil, ErrMalformed},
		{"garbage", []byte("GET / HTTP/1.1"), ErrMalformed},
		{"trailing data", append(bytes.Clone(valid), 0), ErrMalformed},
		{"non-minimal length", nonMinimal, ErrMalformed},
		{"oversize", make([]byte, MaxRequestSize+1), ErrTooLarge},
		{"empty request list", requestDER(t, nil, nil), ErrMalformed},
		{"too many ids", requestDER(t, nil, manyIDs), ErrTooLarge},
		{"version v2", requestDER(t, [][]byte{tagged(t, tagExplicit0, intDER(t, 1))}, [][]byte{single}), ErrUnsupported},
		{"extra field in tbsRequest", requestDER(t, nil, [][]byte{single}, intDER(t, 5)), ErrMalformed},
		{"extra field after tbsRequest", seq(t, seq(t, seq(t, single)), intDER(t, 5)), ErrMalformed},
		{"unknown critical request extension", reqExts(extDER(t, asn1.ObjectIdentifier{1, 2, 3, 4}, true, []byte{5, 0})), ErrUnsupported},
		{"unknown critical single extension", requestDER(t, nil, [][]byte{seq(t, certIDDER(t, id),
			tagged(t, tagExplicit0, seq(t, extDER(t, asn1.ObjectIdentifier{1, 2, 3, 4}, true, []byte{5, 0}))))}), ErrUnsupported},
		{"empty extension list", reqExts(), ErrMalformed},
		{"nonce too long", reqExts(nonceExt(t, make([]byte, MaxNonceSize+1))), ErrTooLarge},
		{"empty nonce", reqExts(nonceExt(t, nil)), ErrMalformed},
		{"nonce not an OCTET STRING", reqExts(extDER(t, oidOCSPNonce, false, []byte("raw nonce"))), ErrMalformed},
		{"duplicate nonce", reqExts(nonceExt(t, []byte{1}), nonceExt(t, []byte{2})), ErrMalformed},
		{"unknown hash algorithm", requestDER(t, nil, [][]byte{seq(t, seq(t, seq(t, oidDER(t, md5), []byte{5, 0}),
			octets(t, make([]byte, 16)), octets(t, make([]byte, 16)), intDER(t, 1)))}), ErrUnsupported},
		{"hash of the wrong size", requestDER(t, nil, [][]byte{seq(t, seq(t, seq(t, oidDER(t, oidSHA1), []byte{5, 0}),
			octets(t, make([]byte, 32)), octets(t, make([]byte, 32)), intDER(t, 1)))}), ErrMalformed},
		{"hash parameters not NULL", requestDER(t, nil, [][]byte{seq(t, seq(t, seq(t, oidDER(t, oidSHA1), intDER(t, 0)),
			octets(t, id.IssuerNameHash), octets(t, id.IssuerKeyHash), intDER(t, 1)))}), ErrMalformed},
		{"serial missing", requestDER(t, nil, [][]byte{seq(t, seq(t, seq(t, oidDER(t, oidSHA1), []byte{5, 0}),
			octets(t, id.IssuerNameHash), octets(t, id.IssuerKeyHash)))}), ErrMalformed},
		{"bad signature structure", seq(t, seq(t, seq(t, single)), tagged(t, tagExplicit0, seq(t, sigAlgDER(t, algSM2)))), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest(tt.der)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if req != nil {
				t.Fatal("a request was returned with the error")
			}
		})
	}
}
