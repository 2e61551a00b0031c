package dataset_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/dataset"
)

// words counts space-separated words: a stand-in tokenizer.
type words struct{}

func (words) Count(s string) int { return len(strings.Fields(s)) }

// byID returns the entries of a set by id, so tests do not depend on the
// sample's order.
func byID(s *dataset.Set) map[string]dataset.Entry {
	m := map[string]dataset.Entry{}
	for _, e := range s.Entries {
		m[e.ID] = e
	}
	return m
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		file   string
		format string // "" = auto
		want   map[string]dataset.Entry
		empty  int64
	}{
		{file: "prompts.jsonl", want: map[string]dataset.Entry{
			"a": {ID: "a", Turns: []dataset.Turn{{User: "Tell me a story about a lighthouse."}}, OutputTokens: 64},
			"line 2": {ID: "line 2", History: []dataset.Message{{Role: "system", Content: "You are terse."}},
				Turns: []dataset.Turn{{User: "Name three rivers."}}},
			"7": {ID: "7", History: []dataset.Message{}, Turns: []dataset.Turn{{User: "Summarise this.", Reply: "It says little."}}},
		}},
		{file: "sharegpt.json", empty: 1, want: map[string]dataset.Entry{
			"conv1": {ID: "conv1", History: []dataset.Message{{Role: "system", Content: "Be kind."}}, Turns: []dataset.Turn{
				{User: "Hello there", Reply: "Hi! How can I help?"}, {User: "Tell me about tides.", Reply: "Tides follow the moon."}}},
			"conv2": {ID: "conv2", Turns: []dataset.Turn{{User: "One question only"}}},
		}},
		{file: "prompts.txt", want: map[string]dataset.Entry{
			"line 1": {ID: "line 1", Turns: []dataset.Turn{{User: "What is the capital of France?"}}},
			"line 4": {ID: "line 4", Turns: []dataset.Turn{{User: "Write a haiku about rain."}}},
			"line 5": {ID: "line 5", Turns: []dataset.Turn{{User: "Explain TCP slow start."}}},
		}},
		// Forced: a JSONL file read as text is one prompt per line.
		{file: "prompts.jsonl", format: "text", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.format, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := dataset.Read(f, tt.file, dataset.Options{Format: tt.format, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if s.Format != "text" || len(s.Entries) != 3 {
					t.Fatalf("forced text: format %s, %d entries", s.Format, len(s.Entries))
				}
				return
			}
			if got := byID(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries:\n got %#v\nwant %#v", got, tt.want)
			}
			if s.Empty != tt.empty {
				t.Errorf("empty = %d, want %d", s.Empty, tt.empty)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name, data, format string
		want               []string // each a line of the error, in order
	}{
		{"bad.jsonl", "{\"prompt\": \"ok\"}\n{\"messages\": \"hi\"}\n", "", []string{`dataset bad.jsonl:2: "messages" is not a list of {role, content}`}},
		{"bad.jsonl", "{\"prompt\": 3}\n{\"prompt\": \"a\", \"messages\": []}\n{}\n{\"prompt\": \"x\", \"output_tokens\": 1.5}\n[1]\n{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}\n{oops\n{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}\n",
			"", []string{
				`dataset bad.jsonl:1: "prompt" is not a string`,
				`dataset bad.jsonl:2: has both "prompt" and "messages"; give one`,
				`dataset bad.jsonl:3: has no "prompt" or "messages"`,
				`dataset bad.jsonl:4: "output_tokens" 1.5 is not a whole number from 1 to 16777216`,
				`dataset bad.jsonl:5: not a JSON object`,
				`dataset bad.jsonl:6: "messages"[0] role "tool": want system, user or assistant`,
				`dataset bad.jsonl:7: not valid JSON`,
				`dataset bad.jsonl:8: "messages" has no user message`,
			}},
		{"many.jsonl", strings.Repeat("{}\n", 25), "", []string{"many.jsonl:1:", "", "", "", "", "", "", "", "", "many.jsonl:10:", "many.jsonl: and 15 more malformed entries"}},
		{"s.json", "[\n {\"id\": 1, \"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]},\n {\"conversations\": [{\"from\": \"robot\", \"value\": \"b\"}]},\n\n {\"conversations\": 5}\n]", "", []string{
			`dataset s.json:3: entry 2: "conversations"[0] from "robot": want human, gpt or system`,
			`dataset s.json:5: entry 3: "conversations" is not a list of {from, value}`}},
		{"cut.json", "[\n {\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]},\n {\"conversations\": [", "", []string{`dataset cut.json:3: entry 2: the file ends inside it`}},
		{"s.json", "{\"prompt\": \"a\"}", "sharegpt", []string{`dataset s.json:1: not a ShareGPT file`}},
		{"empty.txt", "", "", []string{"dataset empty.txt: the file is empty"}},
		{"blank.txt", "\n \n", "", []string{"dataset blank.txt: the file holds only white space"}},
		{"x.txt", "a", "csv", []string{`format "csv": want one of auto, jsonl, sharegpt, text`}},
		{"pretty.jsonl", "{\n  \"prompt\": \"a\"\n}\n", "", []string{"pretty.jsonl:1: not valid JSON: the object does not end on this line", "pretty.jsonl:2:", "pretty.jsonl:3:"}},
		{"utf16.txt", "\xff\xfeh\x00i\x00", "", []string{"dataset utf16.txt: the file is UTF-16 text; save it as UTF-8"}},
		{"long.txt", "short\n" + strings.Repeat("x", dataset.MaxLine+10) + "\nshort\n", "", []string{"dataset long.txt:2: line is over 16 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dataset.Read(strings.NewReader(tt.data), tt.name, dataset.Options{Format: tt.format})
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i+1, lines[i], w)
				}
			}
		})
	}
}

// Other shapes users have: a gzip file, a byte-order mark before a
// ShareGPT array, a JSON array of JSONL-style objects.
func TestReadShapes(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("{\"prompt\": \"zipped\"}\n"))
	zw.Close()
	tests := []struct {
		name, data string
		want       map[string]dataset.Entry
	}{
		{"p.jsonl.gz", gz.String(), map[string]dataset.Entry{"line 1": {ID: "line 1", Turns: []dataset.Turn{{User: "zipped"}}}}},
		{"bom.json", "\xef\xbb\xbf[{\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}]}]",
			map[string]dataset.Entry{"entry 1": {ID: "entry 1", Turns: []dataset.Turn{{User: "hi"}}}}},
		{"array.json", "[\n {\"id\": \"x\", \"prompt\": \"one\"},\n {\"messages\": [{\"role\": \"user\", \"content\": \"two\"}]}\n]",
			map[string]dataset.Entry{"x": {ID: "x", Turns: []dataset.Turn{{User: "one"}}}, "entry 2": {ID: "entry 2", History: []dataset.Message{}, Turns: []dataset.Turn{{User: "two"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := dataset.Read(strings.NewReader(tt.data), tt.name, dataset.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := byID(s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("entries:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// A long line within MaxLine but longer than the read buffer is one prompt.
func TestReadLongLine(t *testing.T) {
	long := strings.Repeat("word ", 50000)
	s, err := dataset.Read(strings.NewReader("a\n"+long+"\nb"), "x.txt", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := byID(s)["line 2"].Turns[0].User; got != long {
		t.Errorf("line 2 has %d bytes, want %d", len(got), len(long))
	}
}

func TestReadSampleAndFilter(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "%s\n", strings.Repeat("w ", 1+i%20))
	}
	data := b.String()
	read := func(o dataset.Options) *dataset.Set {
		t.Helper()
		s, err := dataset.Read(strings.NewReader(data), "x.txt", o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := read(dataset.Options{Sample: 50, Seed: 7})
	if len(a.Entries) != 50 || a.Eligible != 1000 {
		t.Fatalf("kept %d of %d, want 50 of 1000", len(a.Entries), a.Eligible)
	}
	same := read(dataset.Options{Sample: 50, Seed: 7})
	if !reflect.DeepEqual(a.Entries, same.Entries) {
		t.Error("same seed, different sample")
	}
	other := read(dataset.Options{Sample: 50, Seed: 8})
	if reflect.DeepEqual(a.Entries, other.Entries) {
		t.Error("different seeds, same sample")
	}
	// Every line is equally likely: over many seeds the first half of the
	// file gives about half the sample (a crude check of algorithm R).
	first := 0
	for seed := range uint64(40) {
		for _, e := range read(dataset.Options{Sample: 50, Seed: seed}).Entries {
			var n int
			fmt.Sscanf(e.ID, "line %d", &n)
			if n <= 500 {
				first++
			}
		}
	}
	if first < 800 || first > 1200 {
		t.Errorf("%d of 2000 sampled from the first half, want about 1000", first)
	}
	f := read(dataset.Options{MinInput: 5, MaxInput: 10, Counter: words{}})
	if f.Eligible != 300 || f.Filtered != 700 {
		t.Errorf("filter kept %d, left out %d; want 300 and 700", f.Eligible, f.Filtered)
	}
	for _, e := range f.Entries {
		if n := (words{}).Count(e.Turns[0].User); n < 5 || n > 10 {
			t.Errorf("%s has %d tokens", e.ID, n)
		}
	}
	_, err := dataset.Read(strings.NewReader(data), "x.txt", dataset.Options{MinInput: 100, Counter: words{}})
	if err == nil ||
		!strings.Contains(err.Error(), "no entries within the input length bounds (1000 left out)") {
		t.Errorf("all filtered out: %v", err)
	}
}

// A large file is streamed in one pass: JSONL and ShareGPT files of 25 MB
// each give a sample of the asked size from every entry, and the last
// entry's line is still counted right.
func TestReadLargeFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50 MB of files")
	}
	pad := strings.Repeat("lorem ipsum ", 40)
	for _, tt := range []struct {
		name        string
		head, tail  string
		entry       string // format with the entry's number twice
		sep, format string
	}{
		{"big.jsonl", "", "", "{\"id\": \"r%d\", \"prompt\": \"%d " + pad + "\"}", "\n", "jsonl"},
		{"big.json", "[\n", "\n]\n", "{\"id\": \"r%d\", \"conversations\": [{\"from\": \"human\", \"value\": \"%d " + pad + "\"}]}", ",\n", "sharegpt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(f)
			w.WriteString(tt.head)
			n := 0
			for size := 0; size < 25<<20; n++ {
				if n > 0 {
					w.WriteString(tt.sep)
				}
				k, _ := fmt.Fprintf(w, tt.entry, n, n)
				size += k + len(tt.sep)
			}
			// A malformed last entry: its line must be counted right
			// after 25 MB of streaming.
			w.WriteString(tt.sep + "{\"id\": 5}")
			w.WriteString(tt.tail)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			lines := n + 1
			if tt.head != "" {
				lines++
			}
			read := func() (*dataset.Set, error) {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				return dataset.Read(f, tt.name, dataset.Options{Sample: 100, Seed: 3})
			}
			_, err = read()
			if want := fmt.Sprintf("%s:%d:", tt.name, lines); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want it to name %s", err, want)
			}
			// Without the malformed entry: a sample of 100 of n.
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			f, _ = os.OpenFile(path, os.O_WRONLY, 0)
			w = bufio.NewWriter(f)
			w.WriteString(tt.head)
			for i := range n {
				if i > 0 {
					w.WriteString(tt.sep)
				}
				fmt.Fprintf(w, tt.entry, i, i)
			}
			w.WriteString(tt.tail)
			w.Flush()
			f.Close()
			s, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Entries) != 100 || s.Eligible != int64(n) || s.Format != tt.format {
				t.Fatalf("%s: kept %d of %d, want 100 of %d", s.Format, len(s.Entries), s.Eligible, n)
			}
		})
	}
}
