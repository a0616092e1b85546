package fuzz

import (
	"fmt"

	"github.com/ffsim/ffsim/scenario"
)

// renamer collects the names of one kind a step uses, in order, and
// renames them.
type renamer struct {
	canon string // the canonical name, a format with %d
	// each visits every name of this kind in the scenario (declared
	// budgets first), passing a pointer to it.
	each func(sc *scenario.Scenario, f func(name *string))
}

// canonical renames the names of one kind to canon(1), canon(2), ... in
// order of first appearance.
func canonical(sc *scenario.Scenario, r renamer) *scenario.Scenario {
	c := sc.Clone()
	m := map[string]string{}
	r.each(c, func(p *string) {
		if *p == "" {
			return
		}
		if _, ok := m[*p]; !ok {
			m[*p] = fmt.Sprintf(r.canon, len(m)+1)
		}
		*p = m[*p]
	})
	return c
}

// eachStep visits every step, inside groups too.
func eachStep(sc *scenario.Scenario, f func(st *scenario.Step)) {
	for i := range sc.Steps {
		f(&sc.Steps[i])
		for j := range sc.Steps[i].Concurrently {
			f(&sc.Steps[i].Concurrently[j])
		}
	}
}

var (
	budgetNames = renamer{"b%d", func(sc *scenario.Scenario, f func(*string)) {
		for i := range sc.Budgets {
			f(&sc.Budgets[i].ID)
		}
		eachStep(sc, func(st *scenario.Step) {
			switch {
			case st.CreateBudget != nil:
				f(&st.CreateBudget.ID)
			case st.ReportUsage != nil:
				f(&st.ReportUsage.Budget)
			case st.ResetBudget != nil:
				f(&st.ResetBudget.Budget)
			case st.SetNextReset != nil:
				f(&st.SetNextReset.Budget)
			}
		})
	}}
	keyNames = renamer{"k%d", func(sc *scenario.Scenario, f func(*string)) {
		eachStep(sc, func(st *scenario.Step) {
			if st.ReportUsage != nil {
				f(&st.ReportUsage.DedupKey)
			}
		})
	}}
	instanceNames = renamer{"i%d", func(sc *scenario.Scenario, f func(*string)) {
		eachStep(sc, func(st *scenario.Step) {
			switch {
			case st.RegisterWorker != nil:
				f(&st.RegisterWorker.Instance)
			case st.HeartbeatWorker != nil:
				f(&st.HeartbeatWorker.Instance)
			case st.MarkWorkerDead != nil:
				f(&st.MarkWorkerDead.Instance)
			}
		})
	}}
	workerNames = renamer{"w%d", func(sc *scenario.Scenario, f func(*string)) {
		eachStep(sc, func(st *scenario.Step) {
			if st.RegisterWorker != nil {
				f(&st.RegisterWorker.WorkerID)
			}
		})
	}}
	namespaceNames = renamer{"ns%d", func(sc *scenario.Scenario, f func(*string)) {
		eachStep(sc, func(st *scenario.Step) {
			switch {
			case st.RegisterWorker != nil:
				f(&st.RegisterWorker.Namespace)
			case st.HeartbeatWorker != nil:
				f(&st.HeartbeatWorker.Namespace)
			case st.MarkWorkerDead != nil:
				f(&st.MarkWorkerDead.Namespace)
			}
		})
	}}
)
