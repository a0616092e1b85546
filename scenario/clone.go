package scenario

import "reflect"

// Clone returns a copy of sc that shares no memory with it: steps, budgets,
// maps, pointers and expectations are copied all the way down, so a tool
// that rewrites scenarios (a shrinker, an annotator) can change the copy
// freely. It follows the types by reflection, so fields added to them later
// are copied too. Clone of nil is nil.
func (sc *Scenario) Clone() *Scenario {
	if sc == nil {
		return nil
	}
	c := deepCopy(*sc)
	return &c
}

// Clone returns a copy of s that shares no memory with it (see
// [Scenario.Clone]).
func (s *Step) Clone() Step { return deepCopy(*s) }

// Clone returns a copy of b that shares no memory with it (see
// [Scenario.Clone]).
func (b Budget) Clone() Budget { return deepCopy(b) }

func deepCopy[T any](v T) T {
	out := reflect.New(reflect.TypeFor[T]()).Elem()
	copyValue(out, reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(src.Type().Key()).Elem()
			copyValue(k, it.Key())
			v := reflect.New(src.Type().Elem()).Elem()
			copyValue(v, it.Value())
			m.SetMapIndex(k, v)
		}
		dst.Set(m)
	case reflect.Struct:
		t := src.Type()
		for i := range src.NumField() {
			if !t.Field(i).IsExported() {
				dst.Set(src) // a value such as time.Time: nothing in it to share
				return
			}
		}
		for i := range src.NumField() {
			copyValue(dst.Field(i), src.Field(i))
		}
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		copyValue(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}
