package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

// junitSchema is the common JUnit XML schema CI systems read (Jenkins'
// junit-10.xsd, which GitLab, GitHub test reporters, CircleCI and
// Buildkite follow): for each element, its attributes (required or not,
// and their type) and the children it may hold.
var junitSchema = map[string]struct {
	attrs    map[string]attrRule
	children []string
	text     bool
}{
	"testsuites": {
		attrs:    map[string]attrRule{"name": {}, "tests": {typ: "int"}, "failures": {typ: "int"}, "errors": {typ: "int"}, "disabled": {typ: "int"}, "time": {typ: "decimal"}},
		children: []string{"testsuite"},
	},
	"testsuite": {
		attrs: map[string]attrRule{"name": {required: true}, "tests": {required: true, typ: "int"}, "failures": {typ: "int"}, "errors": {typ: "int"},
			"skipped": {typ: "int"}, "disabled": {typ: "int"}, "time": {typ: "decimal"}, "timestamp": {}, "hostname": {}, "id": {}, "package": {}},
		children: []string{"properties", "testcase", "system-out", "system-err"},
	},
	"testcase": {
		attrs:    map[string]attrRule{"name": {required: true}, "classname": {}, "time": {typ: "decimal"}, "assertions": {}, "status": {}},
		children: []string{"skipped", "error", "failure", "system-out", "system-err"},
	},
	"failure":    {attrs: map[string]attrRule{"message": {}, "type": {}}, text: true},
	"error":      {attrs: map[string]attrRule{"message": {}, "type": {}}, text: true},
	"skipped":    {attrs: map[string]attrRule{"message": {}}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

type attrRule struct {
	required bool
	typ      string // "", "int" or "decimal"
}

// node is a parsed XML element.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
}

func parseXML(t *testing.T, b []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatal("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		}
	}
	return root
}

// validateJUnit checks n against junitSchema and the counts against the
// test cases.
func validateJUnit(t *testing.T, n *node, path string) {
	t.Helper()
	rule, ok := junitSchema[n.name]
	if !ok {
		t.Errorf("%s: element <%s> is not in the schema", path, n.name)
		return
	}
	path += "/" + n.name
	for name, r := range rule.attrs {
		v, present := n.attrs[name]
		if r.required && !present {
			t.Errorf("%s: required attribute %s missing", path, name)
		}
		if !present {
			continue
		}
		switch r.typ {
		case "int":
			if i, err := strconv.Atoi(v); err != nil || i < 0 {
				t.Errorf("%s: %s=%q is not a non-negative integer", path, name, v)
			}
		case "decimal":
			if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 || strings.ContainsAny(v, "eE") {
				t.Errorf("%s: %s=%q is not a decimal", path, name, v)
			}
		}
	}
	for name := range n.attrs {
		if _, ok := rule.attrs[name]; !ok {
			t.Errorf("%s: attribute %s is not in the schema", path, name)
		}
	}
	if !rule.text && strings.TrimSpace(n.text) != "" {
		t.Errorf("%s: text content %q where the schema allows none", path, n.text)
	}
	for _, c := range n.children {
		allowed := false
		for _, a := range rule.children {
			allowed = allowed || a == c.name
		}
		if !allowed {
			t.Errorf("%s: <%s> may not hold <%s>", path, n.name, c.name)
		}
		validateJUnit(t, c, path)
	}
}

func count(n *node, name string) (cases, failures int) {
	for _, c := range n.children {
		if c.name == name {
			cases++
			for _, f := range c.children {
				if f.name == "failure" {
					failures++
					break
				}
			}
		}
	}
	return
}

func TestWriteJUnit(t *testing.T) {
	_, res := fixtureResults(t)
	res = append(res, analysis.SLOResult{Expr: "ttft.p50<1ms", Unit: "ms", Op: "<", Threshold: 1, Note: "no ttft samples (no request succeeded)"})
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, "streamgauge", res); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "junit.golden.xml", buf.Bytes())
	if !bytes.HasPrefix(buf.Bytes(), []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Error("no XML declaration")
	}
	root := parseXML(t, buf.Bytes())
	if root.name != "testsuites" {
		t.Fatalf("root <%s>, want <testsuites>", root.name)
	}
	validateJUnit(t, root, "")
	if len(root.children) != 1 || root.children[0].name != "testsuite" {
		t.Fatalf("want one <testsuite>, got %d children", len(root.children))
	}
	suite := root.children[0]
	cases, failures := count(suite, "testcase")
	if cases != len(res) {
		t.Errorf("%d test cases, want one per SLO (%d)", cases, len(res))
	}
	for _, n := range []*node{root, suite} {
		if n.attrs["tests"] != fmt.Sprint(cases) || n.attrs["failures"] != fmt.Sprint(failures) || n.attrs["errors"] != "0" {
			t.Errorf("<%s> tests=%s failures=%s errors=%s, want %d, %d, 0", n.name, n.attrs["tests"], n.attrs["failures"], n.attrs["errors"], cases, failures)
		}
	}
	if failures != 5 {
		t.Errorf("%d failures, want the 5 failed SLOs", failures)
	}
	// What a CI system shows: one case per SLO, named by it, and for a
	// failed one the observed value against the threshold.
	for i, c := range suite.children {
		r := res[i]
		if c.attrs["name"] != r.Expr || c.attrs["classname"] != "streamgauge" {
			t.Errorf("case %d: name %q classname %q, want %q, streamgauge", i, c.attrs["name"], c.attrs["classname"], r.Expr)
		}
		var failure *node
		for _, ch := range c.children {
			if ch.name == "failure" {
				failure = ch
			}
		}
		switch {
		case r.Pass && failure != nil:
			t.Errorf("case %s passed but has a failure", r.Expr)
		case !r.Pass && failure == nil:
			t.Errorf("case %s failed but has no failure", r.Expr)
		case !r.Pass && r.Note == "":
			want := fmt.Sprintf("observed %s, threshold %s %s", analysis.FormatSLOValue(r, r.Value), r.Op, analysis.FormatSLOThreshold(r))
			if failure.attrs["message"] != want || failure.attrs["type"] != report.JUnitViolation {
				t.Errorf("case %s: failure message %q type %q, want %q, %s", r.Expr, failure.attrs["message"], failure.attrs["type"], want, report.JUnitViolation)
			}
		case !r.Pass:
			if !strings.HasPrefix(failure.attrs["message"], r.Note) || failure.attrs["type"] != report.JUnitNoData {
				t.Errorf("case %s: failure %v, want the note and type %s", r.Expr, failure.attrs, report.JUnitNoData)
			}
		}
	}
	want := `<failure message="observed 0.6702 s, threshold &lt; 0.5 s" type="SLOViolation">`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("output lacks %s", want)
	}
}

func TestWriteJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteJUnit(&buf, `a "quoted" <suite>`, nil); err != nil {
		t.Fatal(err)
	}
	root := parseXML(t, buf.Bytes())
	validateJUnit(t, root, "")
	if s := root.children[0]; s.attrs["name"] != `a "quoted" <suite>` || s.attrs["tests"] != "0" {
		t.Errorf("suite %v", s.attrs)
	}
	if err := report.WriteJUnit(failWriter{}, "s", nil); err == nil {
		t.Error("WriteJUnit to a failing writer: no error")
	}
}
