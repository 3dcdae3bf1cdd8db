package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/regledger/regledger/aml/monitor"
	"github.com/regledger/regledger/aml/monitor/monitortest"
	"github.com/regledger/regledger/aml/monitor/sqlstore"
	"github.com/regledger/regledger/internal/sqlite"
)

// A rule version is added in shadow mode; one whose expression does not compile is refused
// with the CEL compiler's message.
func ExampleMonitor_AddRule() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "aml-example-")
	defer os.RemoveAll(dir)
	db, _ := sqlite.Open(ctx, filepath.Join(dir, "aml.db"))
	defer db.Close()
	store, _ := sqlstore.New(ctx, db)
	m, _ := monitor.New(monitor.Default(), store, monitortest.NewFeed())

	r, err := m.AddRule(ctx, "officer-1", monitor.Rule{ID: "many-counterparties", Name: "Many counterparties in a week",
		Severity: monitor.Medium, Window: monitor.Window{Days: 7}, Evidence: monitor.EvidenceCountAll,
		Expr: "window.counterparties >= 8"})
	fmt.Println(r.ID, r.Version, r.Mode, err)

	_, err = m.AddRule(ctx, "officer-1", monitor.Rule{ID: "typo", Name: "A typo", Severity: monitor.Low,
		Expr: "window.counterparty >= 8"})
	var re *monitor.RuleError
	fmt.Println(errors.Is(err, monitor.ErrBadRule), errors.As(err, &re) && re.Field == "expr")
	// Output:
	// many-counterparties 1 shadow <nil>
	// true true
}
