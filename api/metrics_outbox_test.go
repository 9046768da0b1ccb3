package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/latchd/latch/outbox"
)

func TestMetricsOutbox(t *testing.T) {
	m := NewMetrics()
	var b bytes.Buffer
	if err := m.WriteText(&b, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "latch_outbox") {
		t.Error("outbox metrics without an outbox")
	}
	m.SetOutbox(func() []outbox.Stat {
		return []outbox.Stat{
			{Name: "mqtt", Delivered: 120, Backlog: 3, Failures: 2, Dropped: map[string]uint64{"retention": 0, "expired": 0}},
			{Name: "webhook:soc", Delivered: 7, Backlog: 0, Dropped: map[string]uint64{"retention": 5, "expired": 1}},
		}
	})
	b.Reset()
	if err := m.WriteText(&b, 0); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`latch_outbox_delivered_total{destination="mqtt"} 120`,
		`latch_outbox_backlog{destination="mqtt"} 3`,
		`latch_outbox_failures_total{destination="mqtt"} 2`,
		`latch_outbox_dropped_total{destination="webhook:soc",reason="retention"} 5`,
		`latch_outbox_dropped_total{destination="webhook:soc",reason="expired"} 1`,
		`latch_outbox_dropped_total{destination="mqtt",reason="expired"} 0`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("missing %s in\n%s", want, b.String())
		}
	}
}
