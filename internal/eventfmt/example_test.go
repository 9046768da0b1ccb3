package eventfmt_test

import (
	"fmt"
	"time"

	"github.com/latchd/latch/internal/eventfmt"
)

func ExampleStyle_Event() {
	m, err := eventfmt.Decode([]byte(`{"time":"2026-03-02T08:00:01.568Z","seq":13,"event":"access_granted","door":"front","reader":"front-in","user_id":"5b0c3a86-29f1-4c1e-9d7a-3e4f5a6b7c8d","external_id":"alice","card":{"format":"h10301","facility_code":1,"card_number":1001},"method":"card_and_code","mode":"card_and_code"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(eventfmt.Style{Loc: time.UTC}.Event(m))
	// Output:
	// 2026-03-02 08:00:01.568 front        access_granted   method=card_and_code user=alice (5b0c3a86-29f1-4c1e-9d7a-3e4f5a6b7c8d) reader=front-in card=h10301/1/1001 mode=card_and_code
}
