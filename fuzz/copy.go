package fuzz

import (
	"reflect"

	"github.com/ffsim/ffsim/scenario"
)

// clone returns a deep copy of a scenario.
func clone(sc *scenario.Scenario) *scenario.Scenario {
	c := deepCopy(*sc)
	return &c
}

func cloneStep(st *scenario.Step) scenario.Step { return deepCopy(*st) }

// deepCopy returns a copy of v sharing no memory with it (structs with
// unexported fields, such as time.Time, are copied as values).
func deepCopy[T any](v T) T {
	out := reflect.New(reflect.TypeFor[T]()).Elem()
	copyValue(out, reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			copyValue(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
			for i := range src.Len() {
				copyValue(s.Index(i), src.Index(i))
			}
			dst.Set(s)
		}
	case reflect.Map:
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(src.Type(), src.Len())
			it := src.MapRange()
			for it.Next() {
				v := reflect.New(src.Type().Elem()).Elem()
				copyValue(v, it.Value())
				m.SetMapIndex(it.Key(), v)
			}
			dst.Set(m)
		}
	case reflect.Struct:
		t := src.Type()
		for i := range src.NumField() {
			if !t.Field(i).IsExported() {
				dst.Set(src)
				return
			}
		}
		for i := range src.NumField() {
			copyValue(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}
