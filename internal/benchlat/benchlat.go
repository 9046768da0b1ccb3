// Package benchlat reports latency percentiles from benchmarks.
package benchlat

import (
	"slices"
	"testing"
	"time"
)

// Report sorts lat and reports its median and 99th percentile as the
// benchmark's p50-ns and p99-ns metrics; an empty lat reports nothing.
func Report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*50/100].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
}
