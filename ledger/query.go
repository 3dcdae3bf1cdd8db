package ledger

import (
	"errors"
	"fmt"

	"github.com/regledger/regledger/keys"
)

// Queries read committed state through any Reader: the store for the latest height, or
// HistoryStore.At(h) for a past one. They return ErrNotFound for unknown objects.

func readRecord(r Reader, k []byte, rec record) error {
	v, err := r.Get(k)
	if err != nil {
		return err
	}
	if err := decodeRecord(v, rec); err != nil {
		return fmt.Errorf("ledger: corrupt state record: %w", err)
	}
	return nil
}

// ReadCompany returns a registered company.
func ReadCompany(r Reader, uscc string) (*Company, error) {
	var co Company
	if err := readRecord(r, kCompany(uscc), &co); err != nil {
		return nil, err
	}
	return &co, nil
}

// ListCompanies returns every registered company in USCC order.
func ListCompanies(r Reader) ([]*Company, error) {
	var out []*Company
	err := r.Iterate([]byte{pCompany}, func(_, v []byte) error {
		var co Company
		if err := decodeRecord(v, &co); err != nil {
			return err
		}
		out = append(out, &co)
		return nil
	})
	return out, err
}

// ReadRegister returns a company's statutory register (CL2023 Art. 56): every holder who has
// held equity, in address order, former holders with LostAt set.
func ReadRegister(r Reader, uscc string) ([]*Holding, error) {
	if _, err := r.Get(kCompany(uscc)); err != nil {
		return nil, err
	}
	var out []*Holding
	prefix := kHoldings(uscc)
	err := r.Iterate(prefix, func(k, v []byte) error {
		h := &Holding{USCC: uscc}
		if err := decodeRecord(v, h); err != nil {
			return err
		}
		copy(h.Holder[:], k[len(prefix):])
		out = append(out, h)
		return nil
	})
	return out, err
}

// ReadHolding returns one holder's register entry.
func ReadHolding(r Reader, uscc string, a keys.Address) (*Holding, error) {
	h := &Holding{USCC: uscc, Holder: a}
	if err := readRecord(r, kHolding(uscc, a), h); err != nil {
		return nil, err
	}
	return h, nil
}

// ReadIdentity returns an attested identity.
func ReadIdentity(r Reader, a keys.Address) (*Identity, error) {
	var id Identity
	if err := readRecord(r, kIdentity(a), &id); err != nil {
		return nil, err
	}
	return &id, nil
}

// HoldingsOf returns the companies an address holds or has held equity in.
func HoldingsOf(r Reader, a keys.Address) ([]string, error) {
	var out []string
	prefix := key(pHolderIdx, a[:])
	err := r.Iterate(prefix, func(k, _ []byte) error {
		out = append(out, string(k[len(prefix):]))
		return nil
	})
	return out, err
}

// AddressesOf returns the addresses attested with an identity commitment: one person's keys.
func AddressesOf(r Reader, commitment Hash) ([]keys.Address, error) {
	var out []keys.Address
	prefix := key(pCommitment, commitment[:])
	err := r.Iterate(prefix, func(k, _ []byte) error {
		var a keys.Address
		copy(a[:], k[len(prefix):])
		out = append(out, a)
		return nil
	})
	return out, err
}

// ReadNotice returns a transfer or court notice with its replies.
func ReadNotice(r Reader, id Hash) (*Notice, error) {
	var n Notice
	if err := readRecord(r, kNotice(id), &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// ListNotices returns a company's notices, oldest first.
func ListNotices(r Reader, uscc string) ([]*Notice, error) {
	var ids []Hash
	prefix := key(pNoticeIdx, []byte(uscc))
	err := r.Iterate(prefix, func(k, _ []byte) error {
		var id Hash
		copy(id[:], k[len(prefix)+8:])
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Notice, 0, len(ids))
	for _, id := range ids {
		n, err := ReadNotice(r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// ReadFreeze returns a freeze order.
func ReadFreeze(r Reader, id Hash) (*FreezeOrder, error) {
	var f FreezeOrder
	if err := readRecord(r, kFreeze(id), &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// ActiveFreezes returns the freezes in force on a company (Holder zero) and its holdings.
func ActiveFreezes(r Reader, uscc string) ([]*FreezeOrder, error) {
	var ids []Hash
	prefix := key(pFreezeIdx, []byte(uscc))
	err := r.Iterate(prefix, func(k, _ []byte) error {
		var id Hash
		copy(id[:], k[len(k)-32:])
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*FreezeOrder, 0, len(ids))
	for _, id := range ids {
		f, err := ReadFreeze(r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ReadPledge returns a pledge.
func ReadPledge(r Reader, id Hash) (*PledgeRecord, error) {
	var p PledgeRecord
	if err := readRecord(r, kPledge(id), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadOffices returns the terms of office in a company of the person behind address a, held
// under any of the person's addresses.
func ReadOffices(r Reader, uscc string, a keys.Address) ([]OfficeTerm, error) {
	id, err := ReadIdentity(r, a)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	var rec officeRecord
	if err := readRecord(r, kOffice(uscc, id.Commitment), &rec); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return rec.Terms, nil
}

// Seen reports whether a transaction id has committed and is still inside its replay window.
func Seen(r Reader, id Hash) bool {
	_, err := r.Get(kSeen(id))
	return err == nil
}

// RoleOf returns the genesis role of an address (0 when it has none).
func RoleOf(r Reader, a keys.Address) Role {
	var rr roleRecord
	if readRecord(r, kRole(a), &rr) != nil {
		return 0
	}
	return rr.Role
}
