package sim_test

import (
	"fmt"

	"github.com/latchd/latch/sim"
)

func ExampleParseLine() {
	st, _, _ := sim.ParseLine("badge front-in h10301 1 1001   # alice", 7)
	fmt.Println(st.Line, st.Kind, st.Reader, st.Format, st.FacilityCode, st.CardNumber)
	_, _, err := sim.ParseLine("keys 12a4#", 8)
	fmt.Println(err)
	// Output:
	// 7 badge front-in h10301 1 1001
	// line 8: keys: after the reader name come the keys: 0-9, * and # only
}
