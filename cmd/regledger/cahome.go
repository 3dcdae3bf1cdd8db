package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/regledger/regledger/aml"
	"github.com/regledger/regledger/ca"
	casql "github.com/regledger/regledger/ca/sqlstore"
	"github.com/regledger/regledger/internal/audit"
	"github.com/regledger/regledger/internal/audit/sqlaudit"
	"github.com/regledger/regledger/internal/sqlite"
	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/kyc"
	"github.com/regledger/regledger/kyc/notify"
	kycsql "github.com/regledger/regledger/kyc/sqlstore"
	"github.com/regledger/regledger/ledger"
	"github.com/regledger/regledger/ledger/node"
)

// caDir holds the CA's hierarchies: ca/sm2 and ca/p256.
const caDir = "ca"

var caAlgos = []keys.Algo{keys.SM2, keys.P256}

// initCA creates the CA's SM2 and P-256 hierarchies and the KYC secrets of a new home, and
// records the key events in the audit log.
func initCA(ctx context.Context, home, org string, pass []byte, now time.Time) error {
	db, err := sqlite.Open(ctx, filepath.Join(home, offchainDB))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sqlaudit.Migrate(ctx, db); err != nil {
		return err
	}
	for _, algo := range caAlgos {
		h, err := ca.InitHierarchy(ca.HierarchyDir(filepath.Join(home, caDir), algo), algo, org, pass, keys.EncryptOptions{}, now)
		if err != nil {
			return fmt.Errorf("%s hierarchy: %w", algo, err)
		}
		if _, err := sqlaudit.AppendOne(ctx, db, auditKeyEvent("ca.key.generate", h)); err != nil {
			return err
		}
	}
	if _, err := kyc.GenerateSecrets(filepath.Join(home, keysDir), pass, keys.EncryptOptions{}); err != nil {
		return fmt.Errorf("kyc secrets: %w", err)
	}
	_, err = sqlaudit.AppendOne(ctx, db, audit.Event{At: now.UTC(), Actor: operatorActor, Action: "kyc.key.generate", Object: "kyc-secrets"})
	return err
}

// services are the off-chain services of a home that hold personal data or keys: KYC and the
// CA. They share the home's SQLite database.
type services struct {
	kyc *kyc.Service
	ca  *ca.Authority
	aml *aml.Service
}

// openServices loads the KYC secrets, the CA's hierarchies and the attester key of home with
// pass, checks that the attester is the one named in the chain's genesis, and opens both
// services on db.
func openServices(ctx context.Context, home string, cfg fileConfig, pass []byte, db *sqlx.DB) (*services, error) {
	_, gen, err := node.ReadGenesis(filepath.Join(home, node.GenesisFile))
	if err != nil {
		return nil, err
	}
	attester, err := keys.ReadFile(filepath.Join(home, attesterKey), pass)
	if err != nil {
		return nil, fmt.Errorf("attester key: %w", err)
	}
	named := slices.ContainsFunc(gen.Attesters, func(r ledger.RoleKey) bool {
		k, err := r.Key()
		return err == nil && k.Equal(attester.Public())
	})
	if !named {
		return nil, errors.New("the attester key in keys/ is not an attester named in the chain's genesis")
	}
	secrets, err := kyc.LoadSecrets(filepath.Join(home, keysDir), pass)
	if err != nil {
		return nil, err
	}
	ks, err := kycsql.New(ctx, db)
	if err != nil {
		return nil, err
	}
	screening, err := openAML(ctx, cfg, db, nil)
	if err != nil {
		return nil, err
	}
	chains, err := cfg.KYC.BuildChains(func(file string) ([]byte, error) {
		if !filepath.IsAbs(file) {
			file = filepath.Join(home, file)
		}
		return keys.ReadSecretFile(file, pass)
	}, aml.KYCProvider(screening))
	if err != nil {
		return nil, err
	}
	kycSvc, err := kyc.New(cfg.KYC, ks, secrets, kyc.WithChains(chains))
	if err != nil {
		return nil, err
	}
	screening.SetSubjects(aml.KYCSubjects(kycSvc))
	cs, err := casql.New(ctx, db)
	if err != nil {
		return nil, err
	}
	var hs []*ca.Hierarchy
	for _, algo := range caAlgos {
		h, err := ca.LoadHierarchy(ca.HierarchyDir(filepath.Join(home, caDir), algo), algo, cfg.CA.Organization, pass, time.Now())
		if err != nil {
			return nil, err
		}
		if h.Renewed {
			if err := cs.Audit(ctx, auditKeyEvent("ca.ocsp_signer.renew", h)); err != nil {
				return nil, err
			}
		}
		hs = append(hs, h)
	}
	authority, err := ca.New(cfg.CA, cs, kycSvc, hs, attester, gen.ChainID)
	if err != nil {
		return nil, err
	}
	kycSvc.OnWithdraw(func(ctx context.Context, id string) error {
		_, err := authority.RevokeSubject(ctx, id, ca.ReasonKYCWithdrawn, "kyc")
		return err
	})
	return &services{kyc: kycSvc, ca: authority, aml: screening}, nil
}

// openHomeServices opens the home's database and services for a CLI command.
func (e *env) openHomeServices(ctx context.Context, home, passFile string) (*services, func(), error) {
	cfg, err := loadConfig(home)
	if err != nil {
		return nil, nil, err
	}
	pass, err := e.rolePass(home, passFile)
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(home, offchainDB))
	if err != nil {
		return nil, nil, err
	}
	s, err := openServices(ctx, home, cfg, pass, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, func() { db.Close() }, nil
}

// openNotifier builds the institutions' notifier from [[kyc.institutions]].
func openNotifier(ctx context.Context, home string, cfg fileConfig, pass []byte, db *sqlx.DB, svc *services, log *slog.Logger) (*notify.Notifier, error) {
	var insts []notify.Institution
	for _, ic := range cfg.KYC.Institutions {
		file := ic.SecretFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(home, file)
		}
		secret, err := keys.ReadSecretFile(file, pass)
		if err != nil {
			return nil, fmt.Errorf("institution %s: secret: %w", ic.Name, err)
		}
		insts = append(insts, notify.Institution{Name: ic.Name, URL: ic.WebhookURL, Secret: secret})
	}
	return notify.New(ctx, db, svc.kyc, func(ctx context.Context, serial string) (string, error) {
		c, err := svc.ca.Certificate(ctx, serial)
		if err != nil {
			return "", err
		}
		return c.SubjectID, nil
	}, insts, log)
}
