package monitor

import (
	"reflect"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// TxVar is the CEL variable tx: the flow being evaluated. Amounts are integers in fen; the price
// is fen per unit of equity (an LLC's unit is one fen of registered capital, a JSC's one share).
type TxVar struct {
	Type           string    `cel:"type"`            // equity.transfer, pledge.enforce, capital.issue, equity.succession
	Cursor         string    `cel:"cursor"`          // "height-index"
	Height         int64     `cel:"height"`          //
	Index          int64     `cel:"index"`           //
	Hash           string    `cel:"hash"`            // CometBFT hash
	TxID           string    `cel:"tx_id"`           // ledger transaction id
	Time           time.Time `cel:"time"`            // block time
	Day            string    `cel:"day"`             // civil date of block time in Asia/Shanghai, "2006-01-02"
	Company        string    `cel:"company"`         // USCC
	From           string    `cel:"from"`            // address giving the equity (the payee of the consideration); "" for an issue
	To             string    `cel:"to"`              // address receiving the equity (the payer)
	FromCommitment string    `cel:"from_commitment"` // identity commitment of From (of the company for an issue, when known)
	ToCommitment   string    `cel:"to_commitment"`   // identity commitment of To
	Quantity       int64     `cel:"quantity"`        // units of equity
	Consideration  int64     `cel:"consideration"`   // fen; paid-in capital for an issue; 0 for a succession
	Price          float64   `cel:"price"`           // consideration / quantity; 0 when quantity is 0
	Cash           bool      `cel:"cash"`            // paid in cash: the ledger's events do not say, so always false
	CrossBorder    bool      `cel:"cross_border"`    // either party is cross-border (SubjectInfo)
}

// PartyVar is the CEL variables subject and counterparty: an identity, by its commitment, with
// what the ledger (kind) and SubjectInfo (the flags) say of it.
type PartyVar struct {
	Commitment  string `cel:"commitment"`   // "" when unknown (an issue by a company the monitor has not seen registered)
	Kind        string `cel:"kind"`         // "person", "organisation", or "" when unknown
	CrossBorder bool   `cel:"cross_border"` //
	PEP         bool   `cel:"pep"`          //
	Listed      bool   `cel:"listed"`       // on a sanctions or domestic list
	RiskHigh    bool   `cel:"risk_high"`    // rated high risk
	IdleDays    int64  `cel:"idle_days"`    // calendar days since the party's previous flow; -1 when there was none
}

// WindowVar is the CEL variable window: aggregates of the subject's flows over the rule's window,
// the flow being evaluated included. "This direction" is the side's: out for the payer, in for
// the payee. Sums are in fen.
type WindowVar struct {
	Count          int64 `cel:"count"`          // flows in this direction
	Sum            int64 `cel:"sum"`            // their consideration
	CountCat       int64 `cel:"count_cat"`      // flows in this direction and in this flow's LVT category
	SumCat         int64 `cel:"sum_cat"`        // their consideration
	CountIn        int64 `cel:"count_in"`       // flows in which the subject received the consideration
	SumIn          int64 `cel:"sum_in"`         //
	CountOut       int64 `cel:"count_out"`      // flows in which the subject paid it
	SumOut         int64 `cel:"sum_out"`        //
	CountAll       int64 `cel:"count_all"`      // flows in both directions
	Near           int64 `cel:"near"`           // flows in this direction whose consideration is near their category's threshold
	Counterparties int64 `cel:"counterparties"` // distinct counterparties in both directions
	Bought         int64 `cel:"bought"`         // the subject's earlier buys (payer flows) of the same company
	BoughtQty      int64 `cel:"bought_qty"`     // the units those buys brought
	Cycle          int64 `cel:"cycle"`          // length (2-4) of the shortest transfer cycle this flow closes in the company, else 0
	CycleAny       int64 `cel:"cycle_any"`      // the same over transfers in any company
}

// CompanyVar is the CEL variable company: the company of the flow and its reference price, the
// price of its previous transfer or, before any, of its latest issue.
type CompanyVar struct {
	USCC      string  `cel:"uscc"`      //
	RefPrice  float64 `cel:"ref_price"` // fen per unit; 0 when the company has no priced transfer or issue yet
	RefType   string  `cel:"ref_type"`  // the event type that set it
	Deviation float64 `cel:"deviation"` // tx.price / ref_price - 1 (0.5 is 50 % above); 0 without a reference
}

// The variable names of the rule expressions.
const (
	varTx           = "tx"
	varSide         = "side"
	varDirection    = "direction"
	varSubject      = "subject"
	varCounterparty = "counterparty"
	varCategory     = "category"
	varThreshold    = "threshold"
	varNear         = "near"
	varWindow       = "window"
	varCompany      = "company"
)

// newEnv declares the variables.
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeFor[TxVar](), reflect.TypeFor[PartyVar](), reflect.TypeFor[WindowVar](),
			reflect.TypeFor[CompanyVar](), ext.ParseStructTags(true)),
		cel.Variable(varTx, cel.ObjectType("monitor.TxVar")),
		cel.Variable(varSide, cel.StringType),
		cel.Variable(varDirection, cel.StringType),
		cel.Variable(varSubject, cel.ObjectType("monitor.PartyVar")),
		cel.Variable(varCounterparty, cel.ObjectType("monitor.PartyVar")),
		cel.Variable(varCategory, cel.StringType),
		cel.Variable(varThreshold, cel.IntType),
		cel.Variable(varNear, cel.BoolType),
		cel.Variable(varWindow, cel.ObjectType("monitor.WindowVar")),
		cel.Variable(varCompany, cel.ObjectType("monitor.CompanyVar")),
	)
}

// needs are the window aggregates that cost more than a pass over the window; they are computed
// only for windows whose rules read them.
type needs struct {
	counterparties, cycle, cycleAny bool
}

func (n needs) or(o needs) needs {
	return needs{n.counterparties || o.counterparties, n.cycle || o.cycle, n.cycleAny || o.cycleAny}
}

// windowFields returns the fields of window the checked expression reads.
func windowFields(a *cel.Ast) needs {
	var n needs
	ast.PreOrderVisit(a.NativeRep().Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.SelectKind {
			return
		}
		s := e.AsSelect()
		if s.Operand().Kind() != ast.IdentKind || s.Operand().AsIdent() != varWindow {
			return
		}
		switch s.FieldName() {
		case "counterparties":
			n.counterparties = true
		case "cycle":
			n.cycle = true
		case "cycle_any":
			n.cycleAny = true
		}
	}))
	return n
}

// vars is one evaluation's activation; it resolves the variable names without a map.
type vars struct {
	tx           *TxVar
	side         string
	direction    string
	subject      *PartyVar
	counterparty *PartyVar
	category     string
	threshold    int64
	near         bool
	window       *WindowVar
	company      *CompanyVar
}

var _ interpreter.Activation = (*vars)(nil)

// ResolveName implements interpreter.Activation.
func (v *vars) ResolveName(name string) (any, bool) {
	switch name {
	case varTx:
		return v.tx, true
	case varSide:
		return v.side, true
	case varDirection:
		return v.direction, true
	case varSubject:
		return v.subject, true
	case varCounterparty:
		return v.counterparty, true
	case varCategory:
		return v.category, true
	case varThreshold:
		return v.threshold, true
	case varNear:
		return v.near, true
	case varWindow:
		return v.window, true
	case varCompany:
		return v.company, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (v *vars) Parent() interpreter.Activation { return nil }
