package report

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/streamgauge/streamgauge/analysis"
)

// JUnit XML, in the common shape CI systems read (Jenkins, GitLab, GitHub
// test reporters, Buildkite, CircleCI): testsuites > testsuite > testcase,
// a failed case holding a failure element.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// JUnit failure types.
const (
	JUnitViolation = "SLOViolation" // the SLO's comparison did not hold
	JUnitNoData    = "SLONoData"    // there was nothing to judge
)

// WriteJUnit writes one test case per SLO result in a suite named suite, so
// a CI system lists every SLO as a test: a failed SLO's failure message is
// "observed X, threshold Y"; a held SLO's observed value and margin are in
// its system-out.
func WriteJUnit(w io.Writer, suite string, results []analysis.SLOResult) error {
	s := junitSuite{Name: suite, Tests: len(results), Time: "0.000"}
	for _, r := range results {
		c := junitCase{Name: r.Expr, Classname: suite, Time: "0.000"}
		threshold := analysis.FormatSLOThreshold(r)
		if r.Op != "" {
			threshold = r.Op + " " + threshold
		}
		switch {
		case r.Pass:
			c.SystemOut = describeResult(r)
		case r.Note != "":
			s.Failures++
			c.Failure = &junitFailure{
				Message: fmt.Sprintf("%s, threshold %s", r.Note, threshold),
				Type:    JUnitNoData,
				Text:    fmt.Sprintf("%s: %s; the SLO cannot hold without samples", r.Expr, r.Note),
			}
		default:
			s.Failures++
			c.Failure = &junitFailure{
				Message: fmt.Sprintf("observed %s, threshold %s", analysis.FormatSLOValue(r, r.Value), threshold),
				Type:    JUnitViolation,
				Text:    fmt.Sprintf("%s: observed %s, threshold %s, margin %s", r.Expr, analysis.FormatSLOValue(r, r.Value), threshold, analysis.FormatSLOValue(r, r.Margin)),
			}
		}
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
