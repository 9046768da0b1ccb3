package config

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the units a size may carry: bytes and powers of 1,024.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}}

// sizeRule is how a size is written.
const sizeRule = `a whole number of bytes with an optional unit B, KiB, MiB, GiB or TiB, e.g. "512MiB"`

// parseSize reads a size such as "512MiB", "64 KiB" or "1048576" (bytes).
func parseSize(s string) (int64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.shift
			break
		}
	}
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a size: %s", s, sizeRule)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

// fmtSize writes n in the largest unit that divides it.
func fmtSize(n int64) string {
	for i := len(sizeUnits) - 2; i >= 0; i-- { // TiB … KiB
		if u := sizeUnits[i]; n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// size parses key name of t, a size within [lo, hi].
func (b *builder) size(t *table, name string, def, lo, hi int64) int64 {
	key, p := t.key(name), b.str(t, name)
	if p == nil {
		return def
	}
	n, err := parseSize(*p)
	if err != nil {
		b.fail(key, "%v", err)
		return def
	}
	if n < lo || n > hi {
		b.fail(key, "%s is outside %s–%s", *p, fmtSize(lo), fmtSize(hi))
	}
	return n
}

// integer reads key name of t, an integer within [lo, hi].
func (b *builder) integer(t *table, name string, def, lo, hi int) int {
	key, p := t.key(name), b.int(t, name)
	if p == nil {
		return def
	}
	if *p < int64(lo) || *p > int64(hi) {
		b.fail(key, "%d is outside %d–%d", *p, lo, hi)
		return def
	}
	return int(*p)
}
