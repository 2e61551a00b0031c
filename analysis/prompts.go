package analysis

import "strconv"

// MaxPromptHashes bounds the prompt hashes an Accumulator remembers (8 bytes
// each, about 40 bytes with the set's overhead: 80 MiB at most). Past it, a
// prompt not yet seen counts as new, so RepeatedShare is a lower bound and
// PromptStats.Capped says so.
const MaxPromptHashes = 2 << 20

// PromptStats says how often measured requests sent a prompt that an
// earlier request had sent whole (the records' prompt_hash). A repeated
// prompt can be answered from a server's prefix cache, which flatters ttft;
// shared prefixes (prefix-groups) and the growing conversations of
// sessions are not repeats, as the whole prompt differs.
type PromptStats struct {
	// Hashed counts the measured requests whose record has a prompt hash.
	Hashed int64 `json:"hashed"`
	// Distinct counts the different prompts among them.
	Distinct int64 `json:"distinct"`
	// RepeatedShare is the share of Hashed that repeated an earlier prompt:
	// 1 - Distinct/Hashed.
	RepeatedShare float64 `json:"repeated_share"`
	// Capped is true when more than MaxPromptHashes distinct prompts were
	// seen, so repeats after that were not all noticed.
	Capped bool `json:"capped,omitempty"`
}

// promptTally counts distinct prompt hashes.
type promptTally struct {
	seen     map[uint64]struct{}
	hashed   int64
	distinct int64
	capped   bool
}

// add counts one record's prompt hash (16 hex digits; "" or unreadable is
// not counted).
func (t *promptTally) add(hash string) {
	h, err := strconv.ParseUint(hash, 16, 64)
	if hash == "" || err != nil {
		return
	}
	t.hashed++
	if t.seen == nil {
		t.seen = map[uint64]struct{}{}
	}
	if _, ok := t.seen[h]; ok {
		return
	}
	t.distinct++
	if len(t.seen) >= MaxPromptHashes {
		t.capped = true
		return
	}
	t.seen[h] = struct{}{}
}

// stats returns the tally, nil when no record had a prompt hash (a run
// written before prompt hashes were recorded).
func (t *promptTally) stats() *PromptStats {
	if t.hashed == 0 {
		return nil
	}
	return &PromptStats{Hashed: t.hashed, Distinct: t.distinct, Capped: t.capped,
		RepeatedShare: 1 - float64(t.distinct)/float64(t.hashed)}
}

// RepeatedNote warns that measured requests repeated earlier prompts: "37%
// of requests repeated an earlier prompt (63 distinct of 100): a prefix
// cache may flatter ttft; --unique-prompts prevents it". It is empty when
// none did.
func (s *Summary) RepeatedNote() string {
	p := s.Prompts
	if p == nil || p.Distinct == p.Hashed {
		return ""
	}
	pct := 100 * p.RepeatedShare
	share := strconv.FormatFloat(pct, 'f', 0, 64) + "%"
	if pct < 10 {
		share = strconv.FormatFloat(pct, 'f', 1, 64) + "%"
	}
	if p.Capped {
		share = "at least " + share
	}
	return share + " of requests repeated an earlier prompt (" + strconv.FormatInt(p.Distinct, 10) + " distinct of " +
		strconv.FormatInt(p.Hashed, 10) + "): a prefix cache may flatter ttft; --unique-prompts prevents it"
}
