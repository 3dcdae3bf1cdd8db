// Package amltest holds what the AML tests and benchmarks share: where the real sanctions
// lists of the workspace are, the evaluation of screening quality on the development set, and
// the aml.screen benchmark.
package amltest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/regledger/regledger/aml/list"
	"github.com/regledger/regledger/aml/match"
)

// DataEnv names a folder holding the sanctions data (the layout of ../shared/data/sanctions).
const DataEnv = "REGLEDGER_SANCTIONS"

// DataDir finds the workspace's sanctions data: $REGLEDGER_SANCTIONS, else shared/data/sanctions
// beside the repository or any folder above the working directory.
func DataDir() (string, error) {
	if d := os.Getenv(DataEnv); d != "" {
		if _, err := os.Stat(filepath.Join(d, "README.md")); err != nil {
			return "", fmt.Errorf("amltest: $%s: %w", DataEnv, err)
		}
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		d := filepath.Join(dir, "shared", "data", "sanctions")
		if _, err := os.Stat(filepath.Join(d, "README.md")); err == nil {
			return d, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	// The workspace's own copy, for a clone made elsewhere (CI clones outside the workspace).
	if _, err := os.Stat(filepath.Join(workspaceData, "README.md")); err == nil {
		return workspaceData, nil
	}
	return "", errors.New("amltest: no shared/data/sanctions above the working directory nor at " + workspaceData + "; set $" + DataEnv)
}

// workspaceData is where the workspace keeps the sanctions data.
const workspaceData = "/work/shared/data/sanctions"

// EvalLists loads OFAC SDN, OFAC non-SDN and the UN list from the data folder: the lists the
// issue's quality and speed figures are measured with.
func EvalLists(dir string) ([]list.Entity, error) {
	sets, err := list.ReadPaths(filepath.Join(dir, "us_ofac_sdn"), filepath.Join(dir, "us_ofac_non_sdn"), filepath.Join(dir, "un_sc"))
	if err != nil {
		return nil, err
	}
	var out []list.Entity
	for _, s := range sets {
		out = append(out, s.Entities...)
	}
	return out, nil
}

// Row is one query of an evaluation file.
type Row struct {
	Name, BirthDate, Nationality, Gender string
}

// Query is the screening query of a row, at the default threshold.
func (r Row) Query() match.Query {
	q := match.Query{Name: r.Name, Type: list.Person, Threshold: match.DefaultThreshold, Limit: 5}
	if d, err := match.ParseDate(r.BirthDate); err == nil {
		q.BirthDate = d
	}
	if len(r.Nationality) == 2 {
		q.Nationality = strings.ToLower(r.Nationality)
	} else if c, ok := list.Country(r.Nationality); ok {
		q.Nationality = c
	}
	if r.Gender == "male" || r.Gender == "female" {
		q.Gender = r.Gender
	}
	return q
}

// ReadRows reads an evaluation CSV (full_name, first_name, middle_name, last_name, gender,
// date_of_birth, place_of_birth, nationality).
func ReadRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("amltest: %s: %w", path, err)
	}
	if len(recs) < 2 || len(recs[0]) < 8 {
		return nil, fmt.Errorf("amltest: %s: not an evaluation file", path)
	}
	out := make([]Row, 0, len(recs)-1)
	for _, r := range recs[1:] {
		name := r[0]
		if name == "" {
			name = strings.Join(strings.Fields(r[1]+" "+r[2]+" "+r[3]), " ")
		}
		out = append(out, Row{Name: name, BirthDate: r[5], Nationality: r[7], Gender: r[4]})
	}
	return out, nil
}

// Quality is the outcome of an evaluation.
type Quality struct {
	Positives, Found       int // UN positives and those whose top hit is the designated person
	Putin, PutinFound      int // Putin name variants and those found first (SDN 35096)
	Negatives, FalseAlarms int // synthetic negatives and those with a hit over the threshold
	Misses                 []string
}

// Recall is the top-1 recall on the positives.
func (q Quality) Recall() float64 { return float64(q.Found) / float64(q.Positives) }

// FalseAlarmRate is the share of negatives over the threshold.
func (q Quality) FalseAlarmRate() float64 { return float64(q.FalseAlarms) / float64(q.Negatives) }

// Evaluate screens the development set of dir/eval against ix.
//
// A positive counts as found when the top hit is over the threshold and is a designation of
// the queried name (name similarity at least 0.9): some of the positives were built from a UN
// publication newer than the UN file here, and those persons are found on the OFAC SDN list.
func Evaluate(ix *match.Index, dir string) (Quality, error) {
	var q Quality
	pos, err := ReadRows(filepath.Join(dir, "eval/yente_candidate_generation/positives_un_untreated.csv"))
	if err != nil {
		return q, err
	}
	for _, r := range pos {
		hits, err := ix.Screen(r.Query())
		if err != nil {
			return q, err
		}
		q.Positives++
		if len(hits) > 0 && hits[0].Explanation.Name >= 0.9 {
			q.Found++
		} else {
			q.Misses = append(q.Misses, "positive: "+r.Name)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "eval/nomenklatura/putin_names.txt"))
	if err != nil {
		return q, err
	}
	for _, n := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		q.Putin++
		hits, err := ix.Screen(match.Query{Name: n, Threshold: match.DefaultThreshold})
		if err == nil && len(hits) > 0 && hits[0].Entity.List == list.OFACSDN && hits[0].Entity.SourceID == "35096" {
			q.PutinFound++
		} else {
			q.Misses = append(q.Misses, "putin: "+n)
		}
	}
	neg, err := ReadRows(filepath.Join(dir, "eval/yente_validation_report/negatives_global_dev.csv"))
	if err != nil {
		return q, err
	}
	for _, r := range neg {
		hits, err := ix.Screen(r.Query())
		if err != nil {
			return q, err
		}
		q.Negatives++
		if len(hits) > 0 {
			q.FalseAlarms++
			q.Misses = append(q.Misses, "false alarm: "+r.Name+" → "+hits[0].Explanation.Summary)
		}
	}
	return q, nil
}
