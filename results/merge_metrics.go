package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ServerMetricsFile holds the server's metrics scraped during a run
// (--scrape-metrics): one sample a line, {"t_ns": offset from the run's
// start, "name", "value"}; a merged run's samples also carry "shard".
const ServerMetricsFile = "server_metrics.jsonl"

// ServerSample is one line of server_metrics.jsonl.
type ServerSample struct {
	TNS   int64   `json:"t_ns"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Shard is the shard that scraped the sample (merged runs only).
	Shard string `json:"shard,omitempty"`
}

// metricsStream reads one shard's server_metrics.jsonl a sample at a time.
type metricsStream struct {
	run  *shardRun
	f    *os.File
	br   *bufio.Reader
	cur  ServerSample
	ok   bool
	bad  int
	line int
}

// next reads the stream's next well-formed sample; malformed lines (and a
// torn last one) are counted and skipped.
func (s *metricsStream) next() error {
	for {
		b, err := s.br.ReadBytes('\n')
		if t := bytes.TrimSpace(b); len(t) > 0 {
			s.line++
			var raw struct {
				TNS   *int64   `json:"t_ns"`
				Name  string   `json:"name"`
				Value *float64 `json:"value"`
			}
			if json.Unmarshal(t, &raw) != nil || raw.TNS == nil || raw.Value == nil || raw.Name == "" || *raw.TNS < 0 ||
				math.IsNaN(*raw.Value) || math.IsInf(*raw.Value, 0) {
				s.bad++
			} else {
				s.cur = ServerSample{TNS: *raw.TNS + s.run.offset, Name: raw.Name, Value: *raw.Value, Shard: s.run.info.Shard}
				s.ok = true
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			s.ok = false
			return nil
		}
		if err != nil {
			return fmt.Errorf("shard %s: read %s: %w", s.run.dir, ServerMetricsFile, err)
		}
	}
}

// scrapeSource names the server a shard scraped: its scrape-metrics URL,
// or for "sim" the simulator it sent to. "" when it scraped nothing.
func scrapeSource(r *shardRun) string {
	setting, _ := r.profile["scrape-metrics"].(string)
	if setting != "sim" {
		return setting
	}
	u, err := url.Parse(r.info.Target)
	if err != nil || u.Host == "" {
		return "the built-in simulator"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/metrics"}).String()
}

// mergeServerMetrics writes dst/server_metrics.jsonl from the shards':
// every sample on the merged run's time axis (its t_ns re-based by the
// shard's start offset, as the records are), labelled with its shard, in
// time order (shard order for ties). Shards that scraped different servers
// get one warning naming them; so does a shard that was to scrape and kept
// no file. No shard with the file, no file.
func mergeServerMetrics(dst string, runs []*shardRun, res *MergeResult) (err error) {
	var streams []*metricsStream
	defer func() {
		for _, s := range streams {
			s.f.Close()
		}
	}()
	var missing, sources []string
	seen := map[string]bool{}
	for _, r := range runs {
		f, err := os.Open(filepath.Join(r.dir, ServerMetricsFile))
		if errors.Is(err, fs.ErrNotExist) {
			if scrapeSource(r) != "" {
				missing = append(missing, fmt.Sprintf("%s (%s)", r.info.Shard, r.dir))
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("shard %s: %w", r.dir, err)
		}
		streams = append(streams, &metricsStream{run: r, f: f, br: bufio.NewReaderSize(f, 64<<10)})
		src := scrapeSource(r)
		if src == "" {
			src = "an unknown server"
		}
		sources = append(sources, fmt.Sprintf("shard %s %s", r.info.Shard, src))
		seen[src] = true
	}
	if len(streams) == 0 {
		return nil
	}
	if len(missing) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("shards %s kept no %s (the scrape could not start): the merged one holds the other shards' samples", strings.Join(missing, ", "), ServerMetricsFile))
	}
	if len(seen) > 1 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the shards scraped different servers (%s): each sample of the merged %s names its shard", strings.Join(sources, ", "), ServerMetricsFile))
	}
	p := filepath.Join(dst, ServerMetricsFile)
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("run directory %s: %w", dst, err)
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("write %s: %w", p, cerr)
		}
		if err != nil {
			os.Remove(p)
		}
	}()
	bw := bufio.NewWriterSize(out, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, s := range streams {
		if err := s.next(); err != nil {
			return err
		}
	}
	for {
		// Shards are few: pick the earliest head by a scan.
		var best *metricsStream
		for _, s := range streams {
			if s.ok && (best == nil || s.cur.TNS < best.cur.TNS) {
				best = s
			}
		}
		if best == nil {
			break
		}
		if err := enc.Encode(&best.cur); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := best.next(); err != nil {
			return err
		}
	}
	for _, s := range streams {
		if s.bad > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("shard %s (%s): %d malformed lines of %s left out", s.run.info.Shard, s.run.dir, s.bad, ServerMetricsFile))
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
