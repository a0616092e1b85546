package sim

import (
	"context"
	"fmt"
	"slices"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// action performs one kind of action step and returns its outcome. It runs
// as an actor: it may wait on the clock.
type action func(e *engine, s *scenario.Step) (scenario.Outcome, error)

// actions maps every action kind (those that may run inside concurrently)
// to its handler. Time steps, checks and concurrently are the engine's own
// (engine.step). A kind the registry marks as an action without a handler
// here panics at init.
var actions = func() map[scenario.Kind]action {
	m := map[scenario.Kind]action{
		scenario.KindSpawn:           (*engine).spawn,
		scenario.KindShutdown:        (*engine).shutdown,
		scenario.KindClose:           (*engine).close,
		scenario.KindCreateBudget:    (*engine).createBudget,
		scenario.KindReportUsage:     (*engine).reportUsage,
		scenario.KindResetBudget:     (*engine).resetBudget,
		scenario.KindSetNextReset:    (*engine).setNextReset,
		scenario.KindScanTick:        (*engine).scanTick,
		scenario.KindRegisterWorker:  (*engine).registerWorker,
		scenario.KindHeartbeatWorker: (*engine).heartbeatWorker,
		scenario.KindMarkWorkerDead:  (*engine).markWorkerDead,
		scenario.KindSweepTick:       (*engine).sweepTick,
		scenario.KindSlowTick:        (*engine).armFault,
		scenario.KindTickError:       (*engine).armFault,
		scenario.KindBusy:            (*engine).armFault,
		scenario.KindDBError:         (*engine).armFault,
		scenario.KindHoldWriteLock:   (*engine).holdWriteLockStep,
	}
	for _, k := range scenario.Kinds() {
		if _, ok := m[k]; ok != k.Info().Concurrent {
			panic(fmt.Sprintf("sim: step kind %s: handler present %v, but the registry says action %v", k, ok, k.Info().Concurrent))
		}
	}
	return m
}()

// act performs an action step and records when it returned.
func (e *engine) act(s *scenario.Step) (scenario.Outcome, error) {
	k := s.Kind()
	h, ok := actions[k]
	if !ok {
		return scenario.Outcome{}, fmt.Errorf("step %s cannot run here", k)
	}
	out, err := h(e, s)
	out.ReturnedAt = scenario.At(e.w.now().Sub(e.start))
	return out, err
}

func (e *engine) spawn(s *scenario.Step) (scenario.Outcome, error) {
	installed := e.sup == nil
	out := scenario.Outcome{Installed: &installed}
	if !installed {
		return out, nil
	}
	sc := s.Spawn.Config(e.sc.Supervisor)
	cfg := reconcilers.Config{
		BudgetResetInterval:       sc.BudgetResetInterval,
		WorkerRegistryTTLInterval: sc.WorkerRegistryTTLInterval,
	}
	sup, err := reconcilers.Spawn(e.store, cfg, e.options()...)
	if err != nil {
		return out, err
	}
	e.sup = sup
	e.tally.reset()
	return out, nil
}

func (e *engine) shutdown(s *scenario.Step) (scenario.Outcome, error) {
	n := 0
	if e.sup != nil {
		n = e.sup.Shutdown(s.Shutdown.Grace)
	}
	return scenario.Outcome{TimedOut: &n}, nil
}

func (e *engine) close(*scenario.Step) (scenario.Outcome, error) {
	if e.sup != nil {
		e.sup.Close()
	}
	return scenario.Outcome{}, nil
}

func (e *engine) createBudget(s *scenario.Step) (scenario.Outcome, error) {
	res, err := e.store.CreateBudget(context.Background(), budgetSpec(s.CreateBudget))
	if err != nil {
		return scenario.Outcome{}, err
	}
	return scenario.Outcome{Result: res.String()}, nil
}

func (e *engine) reportUsage(s *scenario.Step) (scenario.Outcome, error) {
	r := s.ReportUsage
	res, err := e.store.ReportUsage(context.Background(), r.Budget, r.Usage, r.DedupKey)
	if err != nil {
		return scenario.Outcome{}, err
	}
	out := scenario.Outcome{Result: res.Kind.String()}
	breach := &scenario.Breach{Dimension: &res.Dimension, CurrentUsage: &res.CurrentUsage, Limit: &res.Limit}
	switch res.Kind {
	case reconcilers.OutcomeHardBreach:
		out.HardBreach = breach
	case reconcilers.OutcomeSoftBreach:
		out.SoftBreach = breach
	}
	return out, nil
}

func (e *engine) resetBudget(s *scenario.Step) (scenario.Outcome, error) {
	next, err := e.store.ResetBudget(context.Background(), s.ResetBudget.Budget)
	if err != nil {
		return scenario.Outcome{}, err
	}
	return scenario.Outcome{NextResetAt: e.msOffset(next)}, nil
}

func (e *engine) setNextReset(s *scenario.Step) (scenario.Outcome, error) {
	var at *int64
	if r := s.SetNextReset; !r.At.Null {
		at = ptr(e.ms(r.At.At))
	}
	return scenario.Outcome{}, e.store.SetNextReset(context.Background(), s.SetNextReset.Budget, at)
}

func (e *engine) scanTick(*scenario.Step) (scenario.Outcome, error) {
	rep, err := e.store.ScanTick(context.Background(), e.w.now())
	if err != nil {
		return scenario.Outcome{}, err
	}
	return scenario.Outcome{Processed: &rep.Processed, Errors: &rep.Errors}, nil
}

func (e *engine) registerWorker(s *scenario.Step) (scenario.Outcome, error) {
	r := s.RegisterWorker
	res, err := e.store.RegisterWorker(context.Background(), reconcilers.Registration{
		Namespace: r.NS(), Instance: r.Instance, WorkerID: r.WorkerID,
		Lanes: r.Lanes, Capabilities: r.Capabilities, TTL: r.TTL,
	})
	if err != nil {
		return scenario.Outcome{}, err
	}
	return scenario.Outcome{Result: res.String()}, nil
}

func (e *engine) heartbeatWorker(s *scenario.Step) (scenario.Outcome, error) {
	hb, err := e.store.HeartbeatWorker(context.Background(), s.HeartbeatWorker.NS(), s.HeartbeatWorker.Instance)
	if err != nil {
		return scenario.Outcome{}, err
	}
	if !hb.Refreshed {
		return scenario.Outcome{Result: "not_registered"}, nil
	}
	return scenario.Outcome{Result: "refreshed", Refreshed: &scenario.Refreshed{NextExpiry: e.msOffset(&hb.NextExpiryMs)}}, nil
}

func (e *engine) markWorkerDead(s *scenario.Step) (scenario.Outcome, error) {
	m := s.MarkWorkerDead
	marked, err := e.store.MarkWorkerDead(context.Background(), m.NS(), m.Instance, m.Reason)
	if err != nil {
		return scenario.Outcome{}, err
	}
	if !marked {
		return scenario.Outcome{Result: "not_registered"}, nil
	}
	return scenario.Outcome{Result: "marked"}, nil
}

func (e *engine) sweepTick(*scenario.Step) (scenario.Outcome, error) {
	rep, err := e.store.TTLSweepTick(context.Background(), e.w.now())
	if err != nil {
		return scenario.Outcome{}, err
	}
	return scenario.Outcome{Processed: &rep.Processed, Errors: &rep.Errors}, nil
}

func (e *engine) armFault(s *scenario.Step) (scenario.Outcome, error) {
	e.arm(s)
	return scenario.Outcome{}, nil
}

func (e *engine) holdWriteLockStep(s *scenario.Step) (scenario.Outcome, error) {
	return scenario.Outcome{}, e.holdWriteLock(s.HoldWriteLock.Duration)
}

// budgetSpec is the one conversion from a scenario's budget to the store's:
// defaults filled in, dimensions sorted by name into parallel lists.
func budgetSpec(b *scenario.Budget) reconcilers.BudgetSpec {
	d := b.WithDefaults()
	s := reconcilers.BudgetSpec{
		ID:              d.ID,
		Scope:           reconcilers.Scope{Type: d.Scope.Type, ID: d.Scope.ID},
		EnforcementMode: d.EnforcementMode,
		OnHardLimit:     d.OnHardLimit,
		OnSoftLimit:     d.OnSoftLimit,
		ResetInterval:   d.ResetInterval,
	}
	names := make([]string, 0, len(d.Dimensions))
	for name := range d.Dimensions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s.Dimensions = append(s.Dimensions, name)
		s.HardLimits = append(s.HardLimits, d.Dimensions[name].Hard)
		s.SoftLimits = append(s.SoftLimits, d.Dimensions[name].Soft)
	}
	return s
}
