package list_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/regledger/regledger/aml/list"
)

func ExampleReadPaths() {
	sets, err := list.ReadPaths("testdata/custom_example.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sets {
		fmt.Println(s.List, len(s.Entities), s.Entities[0].Primary())
	}
	// Output:
	// domestic_freeze 2 Maria Exemplar
	// internal_blocklist 2 DOE, Jonathan Quincy
}

func ExampleParseCustom() {
	const csv = `list,source_id,type,name,aliases,birth_dates,nationalities,identifiers
watch,W-1,person,"ROE, Richard","weak:Dick;fka:ROE-SMITH, Richard",1969-11;1970,Russia;by,passport:K123:ru
`
	entities, err := list.ParseCustom(strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := entities[0]
	fmt.Println(e.List, e.SourceID, e.Type)
	for _, n := range e.Names {
		fmt.Printf("%s (%s)\n", n.Full, n.Kind)
	}
	fmt.Println(e.BirthDates, e.Nationalities, e.Identifiers[0].Type, e.Identifiers[0].Country)
	// Output:
	// watch W-1 person
	// ROE, Richard (primary)
	// Dick (weak)
	// ROE-SMITH, Richard (fka)
	// [{1969 11 0} {1970 0 0}] [ru by] passport ru
}

func ExampleParseError() {
	_, err := list.ParseCustom(strings.NewReader("list,source_id,name,birth_dates\nwatch,W-1,ROE Richard,11/1969\n"))
	var pe *list.ParseError
	if errors.As(err, &pe) && errors.Is(err, list.ErrFormat) {
		fmt.Println(pe.Line, pe.Element)
	}
	fmt.Println(err)
	// Output:
	// 2 birth_dates
	// list: input line 2, element birth_dates: date is not YYYY, YYYY-MM or YYYY-MM-DD
}

func ExampleCountry() {
	for _, name := range []string{"Korea, North", "Iran (Islamic Republic of)", "Côte d'Ivoire", "Burma", "na"} {
		code, ok := list.Country(name)
		fmt.Printf("%q %q %v\n", name, code, ok)
	}
	// Output:
	// "Korea, North" "kp" true
	// "Iran (Islamic Republic of)" "ir" true
	// "Côte d'Ivoire" "ci" true
	// "Burma" "mm" true
	// "na" "" false
}
