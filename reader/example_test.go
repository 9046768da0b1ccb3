package reader_test

import (
	"fmt"
	"time"

	"github.com/latchd/latch/reader"
)

func ExampleFormatSpec_Encode() {
	s, _ := reader.ParseFormatSpec("h10301", "")
	bits, _ := s.Encode(212, 7041)
	fmt.Println(bits)
	c, err := s.Decode(bits)
	fmt.Println(c.FacilityCode, c.CardNumber, err)
	// Output:
	// 11101010000011011100000010
	// 212 7041 <nil>
}

func ExampleDecoder() {
	dec, err := reader.NewDecoder(reader.Config{Name: "front-in", Formats: []string{"h10301", "h10304"}, Keypad: reader.Keypad4})
	if err != nil {
		panic(err)
	}
	// A key frame "0101" (key 5) from a reader pulsing every 2 ms.
	for i, b := range "0101" {
		e := reader.Edge{Line: reader.Line(b - '0'), T: time.Duration(i) * 2 * time.Millisecond, Seq: uint32(i + 1)}
		dec.Push(e) // returns the Read of a frame this edge closed
	}
	dl, _ := dec.Deadline() // wake up then, if no edge came
	for _, r := range dec.Flush(dl) {
		fmt.Println(r.Reader, r.Kind == reader.KindKeys, string(r.Keys), dl)
	}
	// Output:
	// front-in true 5 12ms
}
