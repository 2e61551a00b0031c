package profiles

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Origin is where a setting's value came from, so that a message about it
// can say where to fix it. At most one field is set; none means the
// built-in default.
type Origin struct {
	// File is the profile (a file path or a built-in profile's name).
	File string
	// Env is the environment variable, e.g. STREAMGAUGE_RATE.
	Env string
	// Flag is the flag's name without dashes, e.g. rate.
	Flag string
}

// Where names key as it was given: `profile my.yaml: rate`,
// `STREAMGAUGE_RATE`, `--rate`, or the key itself for a default.
func (o Origin) Where(key string) string {
	switch {
	case o.File != "":
		return "profile " + o.File + ": " + key
	case o.Env != "":
		return o.Env
	case o.Flag != "":
		return "--" + o.Flag
	}
	return key
}

// Setting is one value given for a profile key: a scalar's text, a list's
// items, or (from a file only) a block of nested keys.
type Setting struct {
	// Key is the profile key, e.g. duration.
	Key string
	// Text is a scalar's text as written: "10s", "5", "true".
	Text string
	// List holds a list's items; IsList says the value is a list.
	List   []string
	IsList bool
	// From is where the value came from.
	From Origin
	// node is the YAML value of a setting read from a file.
	node *yaml.Node
}

// Kind is the kind of value a profile key takes.
type Kind string

// The kinds of profile values.
const (
	KindString   Kind = "string"
	KindBool     Kind = "bool"
	KindInt      Kind = "int"
	KindUint     Kind = "uint"
	KindFloat    Kind = "float"
	KindDuration Kind = "duration"
	KindList     Kind = "list"
	KindBlock    Kind = "block"
)

// Key describes one profile key.
type Key struct {
	// Name is the key as written in files and flags.
	Name string
	// Kind is the kind of value it takes.
	Kind Kind
	// Default is the default value as it would be written ("" when zero).
	Default string
}

var durationType = reflect.TypeFor[time.Duration]()

// field is one key of a struct decoded from settings.
type field struct {
	key   string
	index int
	typ   reflect.Type
}

// fieldsOf lists the keys of a struct type from its mapstructure tags.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		out = append(out, field{key: tag, index: i, typ: f.Type})
	}
	return out
}

func kindOf(t reflect.Type) Kind {
	if t == durationType {
		return KindDuration
	}
	switch t.Kind() {
	case reflect.String:
		return KindString
	case reflect.Bool:
		return KindBool
	case reflect.Int:
		return KindInt
	case reflect.Uint64:
		return KindUint
	case reflect.Float64:
		return KindFloat
	case reflect.Slice:
		return KindList
	}
	return KindBlock
}

// KeyList describes every profile key, in the Profile's field order.
func KeyList() []Key {
	d := reflect.ValueOf(Default())
	var out []Key
	for _, f := range fieldsOf(d.Type()) {
		k := Key{Name: f.key, Kind: kindOf(f.typ)}
		if v := d.Field(f.index); !v.IsZero() {
			switch k.Kind {
			case KindDuration:
				k.Default = time.Duration(v.Int()).String()
			case KindList, KindBlock:
			default:
				k.Default = fmt.Sprint(v.Interface())
			}
		}
		out = append(out, k)
	}
	return out
}

// SettingError is one value that cannot be read: where it was given, the
// value and what is wrong with it.
type SettingError struct {
	// Where names the key as given (Origin.Where).
	Where string
	// Value is the text given; HasValue is false for a list or block where
	// one value was wanted.
	Value    string
	HasValue bool
	// Problem says what is wrong and how to fix it.
	Problem string
}

// Error reads `WHERE: "VALUE" PROBLEM`, e.g. `profile my.yaml: duration:
// "10" has no unit; write 10s (or ms, m, h)`.
func (e *SettingError) Error() string {
	if !e.HasValue {
		return e.Where + ": " + e.Problem
	}
	v := e.Value
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	return fmt.Sprintf("%s: %q %s", e.Where, v, e.Problem)
}

// ParseText reads the text of one value of the given kind, the way every
// profile value, STREAMGAUGE_* variable and flag is read. Its error says
// what is wrong with the text, to follow the text in a message ("is not a
// number", "has no unit; write 10s").
func ParseText(kind Kind, text string) (any, error) {
	s := strings.TrimSpace(text)
	switch kind {
	case KindString:
		return text, nil
	case KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New("is not true or false")
		}
		return b, nil
	case KindInt, KindUint:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if kind == KindUint && n < 0 {
				return nil, errors.New("must not be negative")
			}
			if kind == KindInt {
				if n != int64(int(n)) {
					return nil, errors.New("is too large")
				}
				return int(n), nil
			}
			return uint64(n), nil
		}
		if kind == KindUint {
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return n, nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return nil, errors.New("is not a number; want a whole number")
		case err != nil || math.Abs(f) >= 1<<63:
			return nil, errors.New("is too large")
		case f != math.Trunc(f):
			return nil, errors.New("is not a whole number")
		case kind == KindUint && f < 0:
			return nil, errors.New("must not be negative")
		case kind == KindUint:
			return uint64(f), nil
		}
		return int(f), nil
	case KindFloat:
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return nil, errors.New("is out of range")
		case err != nil:
			return nil, errors.New("is not a number")
		case math.IsNaN(f) || math.IsInf(f, 0):
			return nil, errors.New("is not a finite number")
		}
		return f, nil
	case KindDuration:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			switch {
			case f == 0:
				return time.Duration(0), nil
			case f < 0:
				return nil, errors.New("must not be negative")
			}
			return nil, fmt.Errorf("has no unit; write %ss (or ms, m, h)", s)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			if strings.HasSuffix(s, "d") {
				return nil, errors.New("is not a duration; days are written in hours, e.g. 24h")
			}
			return nil, errors.New("is not a duration; write a number and a unit, e.g. 30s, 500ms or 1m30s")
		}
		if d < 0 {
			return nil, errors.New("must not be negative")
		}
		return d, nil
	}
	return nil, fmt.Errorf("cannot be read (%s)", kind)
}

// want says what a value of kind looks like, for messages.
func want(k Kind) string {
	switch k {
	case KindBool:
		return "true or false"
	case KindInt, KindUint:
		return "a whole number"
	case KindFloat:
		return "a number"
	case KindDuration:
		return "a duration such as 30s"
	case KindList:
		return "a list"
	case KindBlock:
		return "a block of keys"
	}
	return "one value"
}

// Resolve layers settings over the defaults in the order given (a profile
// file's, then environment variables', then flags') and returns the
// profile. Every value that cannot be read is reported at once, one line
// each, naming where it was given. The profile remembers where each key
// came from, so that Validate's messages name the file or variable too.
func Resolve(layers ...[]Setting) (Profile, error) {
	p := Default()
	p.origins = map[string]Origin{}
	pv := reflect.ValueOf(&p).Elem()
	byKey := map[string]field{}
	for _, f := range fieldsOf(pv.Type()) {
		byKey[f.key] = f
	}
	var errs []error
	for _, layer := range layers {
		for _, s := range layer {
			f, ok := byKey[s.Key]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown key%s", s.From.Where(s.Key), suggest(s.Key, Keys())))
				continue
			}
			before := len(errs)
			dst := pv.Field(f.index)
			if s.node != nil {
				decodeNode(s.node, dst, s.Key, s.From, &errs)
			} else {
				decodeSetting(s, dst, &errs)
			}
			if len(errs) == before {
				p.origins[s.Key] = s.From
			}
		}
	}
	return p, errors.Join(errs...)
}

// decodeSetting sets dst from an environment variable's or flag's text.
func decodeSetting(s Setting, dst reflect.Value, errs *[]error) {
	k := kindOf(dst.Type())
	switch {
	case k == KindList:
		items := s.List
		if !s.IsList {
			items = []string{s.Text}
		}
		dst.Set(reflect.ValueOf(append([]string(nil), items...)))
	case k == KindBlock:
		*errs = append(*errs, &SettingError{Where: s.From.Where(s.Key), Problem: "can only be set in a profile file"})
	case s.IsList:
		*errs = append(*errs, &SettingError{Where: s.From.Where(s.Key), Problem: "is given more than once; give one value"})
	default:
		setText(dst, k, s.Text, s.From.Where(s.Key), errs)
	}
}

func setText(dst reflect.Value, k Kind, text, where string, errs *[]error) {
	v, err := ParseText(k, text)
	if err != nil {
		*errs = append(*errs, &SettingError{Where: where, Value: text, HasValue: true, Problem: err.Error()})
		return
	}
	dst.Set(reflect.ValueOf(v).Convert(dst.Type()))
}

// resolveAlias follows YAML aliases (*name) to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is YAML's null (`key:` with no value, ~, null).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// decodeNode sets dst from a profile file's YAML value; path is the key as
// a message names it (generic.usage.prompt).
func decodeNode(n *yaml.Node, dst reflect.Value, path string, o Origin, errs *[]error) {
	n = resolveAlias(n)
	if n == nil || isNull(n) {
		return
	}
	where := o.Where(path)
	k := kindOf(dst.Type())
	switch k {
	case KindList:
		var items []*yaml.Node
		switch n.Kind {
		case yaml.ScalarNode:
			items = []*yaml.Node{n}
		case yaml.SequenceNode:
			items = n.Content
		default:
			*errs = append(*errs, &SettingError{Where: where, Problem: "is a block of keys; want a list of values"})
			return
		}
		out := []string{}
		for i, it := range items {
			it = resolveAlias(it)
			if it == nil || it.Kind != yaml.ScalarNode || isNull(it) {
				*errs = append(*errs, &SettingError{Where: fmt.Sprintf("%s[%d]", where, i), Problem: "want one value (text)"})
				continue
			}
			out = append(out, it.Value)
		}
		dst.Set(reflect.ValueOf(out))
	case KindBlock:
		if n.Kind != yaml.MappingNode {
			*errs = append(*errs, &SettingError{Where: where, Problem: "want a block of keys (key: value on the lines below, indented)"})
			return
		}
		if dst.Kind() == reflect.Map {
			decodeMap(n, dst, path, o, errs)
			return
		}
		fields := fieldsOf(dst.Type())
		var names []string
		for _, f := range fields {
			names = append(names, f.key)
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if line, ok := seen[key]; ok {
				*errs = append(*errs, fmt.Errorf("%s: given twice (lines %d and %d); keep one", o.Where(path+"."+key), line, n.Content[i].Line))
				continue
			}
			seen[key] = n.Content[i].Line
			j := -1
			for fi, f := range fields {
				if f.key == key {
					j = fi
				}
			}
			if j < 0 {
				*errs = append(*errs, fmt.Errorf("%s: unknown key %q%s", o.Where(path), key, suggest(key, names)))
				continue
			}
			decodeNode(n.Content[i+1], dst.Field(fields[j].index), path+"."+key, o, errs)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			what := "a list"
			if n.Kind == yaml.MappingNode {
				what = "a block of keys"
			}
			*errs = append(*errs, &SettingError{Where: where, Problem: fmt.Sprintf("is %s; want %s", what, want(k))})
			return
		}
		setText(dst, k, n.Value, where, errs)
	}
}

// decodeMap sets a map of text to text (a block of headers).
func decodeMap(n *yaml.Node, dst reflect.Value, path string, o Origin, errs *[]error) {
	m := reflect.MakeMap(dst.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolveAlias(n.Content[i]), resolveAlias(n.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			*errs = append(*errs, &SettingError{Where: o.Where(path), Problem: "want name: value lines"})
			continue
		}
		m.SetMapIndex(reflect.ValueOf(k.Value), reflect.ValueOf(v.Value))
	}
	dst.Set(m)
}
