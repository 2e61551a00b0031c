package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
)

// StepTiming is a step-timing file: forward-pass times measured on the
// server's own hardware, e.g. with a script that times one prefill of
// batch × tokens and one decode step of batch sequences each holding
// context tokens. Other keys (the GPU, library versions) are kept as
// provenance and otherwise ignored.
//
//	{"gpu": "NVIDIA H200",
//	 "prefill": [{"batch": 1, "tokens": 1024, "ms": 30.3}, ...],
//	 "decode":  [{"batch": 64, "context": 2048, "ms": 65.7}, ...]}
type StepTiming struct {
	GPU     string          `json:"gpu,omitempty"`
	Prefill []PrefillTiming `json:"prefill"`
	Decode  []DecodeTiming  `json:"decode"`
}

// PrefillTiming is one prefill pass: batch prompts of tokens tokens each.
type PrefillTiming struct {
	Batch  int     `json:"batch"`
	Tokens int     `json:"tokens"`
	MS     float64 `json:"ms"`
}

// DecodeTiming is one decode step: batch sequences, each with context
// tokens in its KV cache, each decoding one token.
type DecodeTiming struct {
	Batch   int     `json:"batch"`
	Context int     `json:"context"`
	MS      float64 `json:"ms"`
}

// maxStepTimingBytes bounds a step-timing file, read and parsed (a few
// hundred points is already a large measurement; anything larger is not
// one: a run's requests.jsonl given by mistake, say).
const maxStepTimingBytes = 16 << 20

// ParseStepTiming reads a step-timing file's bytes; name (its path) is for
// messages. Every point must have a batch of at least 1, a non-negative
// token or context count and a positive, finite ms; the first bad point is
// named.
func ParseStepTiming(name string, data []byte) (*StepTiming, error) {
	if len(data) > maxStepTimingBytes {
		return nil, fmt.Errorf("step-timing file %s: %d bytes, more than the %d a step-timing file may have", name, len(data), maxStepTimingBytes)
	}
	var st StepTiming
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&st); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("step-timing file %s: empty; want %s", name, stepTimingShape)
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("step-timing file %s: not JSON (%s, at byte %d); want %s", name, syn.Error(), syn.Offset, stepTimingShape)
		case errors.As(err, &typ) && typ.Field != "":
			return nil, fmt.Errorf("step-timing file %s: %s is a JSON %s; want %s (%s)", name, typ.Field, typ.Value, jsonKind(typ.Type), stepTimingShape)
		}
		return nil, fmt.Errorf("step-timing file %s: %s", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, fmt.Errorf("step-timing file %s: more than one JSON value", name)
	}
	if len(st.Prefill)+len(st.Decode) == 0 {
		return nil, fmt.Errorf("step-timing file %s: no \"prefill\" or \"decode\" points", name)
	}
	okMS := func(ms float64) bool { return ms > 0 && !math.IsInf(ms, 0) && !math.IsNaN(ms) && ms < 3.6e6 }
	const maxCount = 1 << 30
	for i, p := range st.Prefill {
		if p.Batch < 1 || p.Batch > maxCount || p.Tokens < 1 || p.Tokens > maxCount || !okMS(p.MS) {
			return nil, fmt.Errorf("step-timing file %s: prefill[%d] {batch %d, tokens %d, ms %g}: want batch ≥ 1, tokens ≥ 1 and ms > 0", name, i, p.Batch, p.Tokens, p.MS)
		}
	}
	for i, p := range st.Decode {
		if p.Batch < 1 || p.Batch > maxCount || p.Context < 0 || p.Context > maxCount || !okMS(p.MS) {
			return nil, fmt.Errorf("step-timing file %s: decode[%d] {batch %d, context %d, ms %g}: want batch ≥ 1, context ≥ 0 and ms > 0", name, i, p.Batch, p.Context, p.MS)
		}
	}
	return &st, nil
}

// Observations are st's points as step observations, each its own
// bootstrap cluster from base on. A prefill pass computes and reads
// batch·tokens tokens; a decode step computes batch tokens and reads
// batch·(context+1) (the cache and the new token).
func (st *StepTiming) Observations(source string, base int) []StepObservation {
	var out []StepObservation
	for i, p := range st.Prefill {
		n := float64(p.Batch) * float64(p.Tokens)
		out = append(out, StepObservation{Class: ObsPrefill, Tokens: n, Context: n, Steps: 1, MS: p.MS, Cluster: base + len(out),
			Label: fmt.Sprintf("%s prefill[%d] %d×%d", source, i, p.Batch, p.Tokens)})
	}
	for i, p := range st.Decode {
		b := float64(p.Batch)
		out = append(out, StepObservation{Class: ObsDecode, Tokens: b, Decodes: b, Context: b * float64(p.Context+1), Steps: 1, MS: p.MS, Cluster: base + len(out),
			Label: fmt.Sprintf("%s decode[%d] %d×%d", source, i, p.Batch, p.Context)})
	}
	return out
}

// stepTimingShape is a step-timing file's shape, for messages.
const stepTimingShape = `{"prefill": [{"batch","tokens","ms"}...], "decode": [{"batch","context","ms"}...]}`

// jsonKind names what a Go type reads from JSON: "a number", "a list",
// "an object".
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	}
	return "a number"
}
